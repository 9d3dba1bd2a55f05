/** The local Messages API server, for the demo and for users' own tests. */
export { startModelServer, type ModelServer, type ModelServerOptions } from './server.ts';
export { rules, RequestView, type Rule, type ScriptedReply, type ToolUseSpec, type ErrorKind, type StopReason, type MessagesRequest } from './script.ts';
export { RequestLog, promptDigest, type RequestLogEntry } from './log.ts';
export type { ServerLimits } from './limits.ts';
