export { Supervisor, type CrashReport, type ChildInfo, type ChildStatus, type Decision } from './supervisor.ts';
export { defineSupervisor, type ChildSpec, type SupervisorSpec, type ShutdownPolicy } from './spec.ts';
export * from './policy/index.ts';
