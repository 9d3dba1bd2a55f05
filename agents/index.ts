/** The agent layer: LLM agents as actors on @anthropic-ai/sdk. */
export { defineAgent, type AgentSpec, type AgentArgs, type RunResult, type AgentStats, type HandoffRecord, type AgentTaskResult } from './define.ts';
export { HANDOFF_TOOL, filterConversation, renderBrief, chooseReceiver, type HandoffContext, type HandoffInput, type HandoffOptions, type HandoffLine } from './policy/handoff.ts';
export type { RunRequest, AgentEvent } from './loop.ts';
export type { ToolSpec, ToolCall } from './tools.ts';
export { idempotencyKey, toolError, type ToolError } from './tools.ts';
export { planTool, planSchema, startPlanner, taskPlanner, PLANNER_ID, type Plan, type PlannedTask, type PlanReport, type PlannerOptions } from './planner.ts';
export { startQuotaGovernor, quotaGovernor, GOVERNOR_ID } from './governor.ts';
export { agentJournal, journalId } from './journal.ts';
export type { EndpointOptions } from './endpoint.ts';
export { useModelClient, type ModelClient, type ModelRequestMeta } from './model-client.ts';
export { defaultPrices, costUsd, type PriceTable, type ModelPrice, type TokenCounts } from './prices.ts';
export type { QuotaLimits, QuotaOptions } from './policy/quota.ts';
export * from './errors.ts';
