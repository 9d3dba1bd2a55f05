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

/**
 * The same estimate for a conversation that grows by appends (an agent's run): the JSON length of each message
 * object and of the tools array is remembered, so a turn encodes only the messages new since the last one instead
 * of the whole conversation (O(conversation) per turn was 60 us of a 40-turn run's turns). Only for objects that
 * are not changed after they are measured: the run's messages are appended, never edited or removed in place
 * (compaction makes a new array of new ones); compaction itself, which edits its copies, uses estimateInputTokens.
 */
export class PromptSizer {
  readonly #lengths = new WeakMap<object, number>();
  /** The messages array measured last, how many of its elements, and their lengths' sum: appends add only theirs. */
  #array: readonly unknown[] | undefined;
  #counted = 0;
  #sum = 0;

  tokens(parts: PromptParts): number {
    let chars = 0;
    if (parts.system !== undefined) chars += jsonLength(parts.system);
    if (Array.isArray(parts.messages)) chars += this.#messagesLength(parts.messages);
    else if (parts.messages !== undefined) chars += jsonLength(parts.messages);
    if (parts.tools !== undefined) chars += this.#length(parts.tools);
    return Math.max(1, Math.ceil(chars / 4));
  }

  /** JSON.stringify(items).length: brackets, commas, and each element's length (`null` for what JSON drops). */
  #messagesLength(items: readonly unknown[]): number {
    if (items !== this.#array || items.length < this.#counted) {
      this.#array = items;
      this.#counted = 0;
      this.#sum = 0;
    }
    for (; this.#counted < items.length; this.#counted++) {
      const item = items[this.#counted];
      this.#sum += typeof item === 'object' && item !== null ? this.#length(item) : (JSON.stringify(item) ?? 'null').length;
    }
    return 2 + Math.max(0, items.length - 1) + this.#sum;
  }

  #length(v: unknown): number {
    if (typeof v !== 'object' || v === null) return jsonLength(v);
    let n = this.#lengths.get(v);
    if (n === undefined) this.#lengths.set(v, (n = jsonLength(v)));
    return n;
  }
}

export function estimateTextTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function jsonLength(v: unknown): number {
  return typeof v === 'string' ? v.length : JSON.stringify(v)?.length ?? 0;
}
