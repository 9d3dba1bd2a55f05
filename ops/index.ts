// `troupe/ops`: run a system as a service from code, and the ops server (metrics, health, admin API, web view).
export { startOpsServer, type OpsServer, type OpsServerOptions } from './server.ts';
export { runService, SERVICE_EXIT, SystemStartError, type ServiceIo } from './service.ts';
export { resolveConfig, checkEnvironment, configKeys, defaultConfig, logLevels, type ServiceConfig, type ConfigSources, type LogLevel } from './config.ts';
export { defineSystem, systemOf, type SystemDefinition, type SystemContext } from './system.ts';
export { loadSystem } from './start-command.ts';
export { ConfigError, SystemModuleError } from './service-errors.ts';
