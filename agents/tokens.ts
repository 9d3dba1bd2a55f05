/**
 * A deterministic token estimate shared by the local model server (what it bills and limits) and the agents
 * (what they ask the quota governor for before a request): one token per 4 characters of the JSON of the
 * system prompt, the messages and the tools. The real API counts differently; with it the governor's
 * estimates are corrected by the real usage after each response.
 */
export interface PromptParts {
  system?: unknown;
  messages?: unknown;
  tools?: unknown;
}

export function estimateInputTokens(parts: PromptParts): number {
  let chars = 0;
  if (parts.system !== undefined) chars += jsonLength(parts.system);
  if (parts.messages !== undefined) chars += jsonLength(parts.messages);
  if (parts.tools !== undefined) chars += jsonLength(parts.tools);
  return Math.max(1, Math.ceil(chars / 4));
}

export function estimateTextTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function jsonLength(v: unknown): number {
  return typeof v === 'string' ? v.length : JSON.stringify(v)?.length ?? 0;
}
