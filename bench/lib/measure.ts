/** Shared plumbing for kernels: interleaved repeated runs, gc between them, and the result hand-off. */

const gcFn = (globalThis as { gc?: () => void }).gc;

/** Full collection when the process runs with --expose-gc (the bench driver always does). */
export function gc(): void {
  gcFn?.();
}

export const hasGc = gcFn !== undefined;

export interface Rounds {
  warmup: number;
  runs: number;
}

/**
 * Run each contender `warmup + runs` times, interleaved (A B, B A, A B ...) so drift on a noisy host hits both
 * sides alike; warmup results are dropped. A gc before every trial keeps one side's garbage off the other's clock
 * (`gc: false` when the contenders do not share a heap: V8's forced full gc leaves the next ~100 ms of a large code
 * base running slower, which is not what a service sees; bench/persistence/durable.ts).
 */
export async function interleave<T>(rounds: Rounds, contenders: Record<string, () => Promise<T>>, options: { gc?: boolean } = {}): Promise<Record<string, T[]>> {
  const names = Object.keys(contenders);
  const out: Record<string, T[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let round = 0; round < rounds.warmup + rounds.runs; round++) {
    const order = round % 2 === 0 ? names : [...names].reverse();
    for (const name of order) {
      if (options.gc !== false) gc();
      const result = await contenders[name]();
      if (round >= rounds.warmup) out[name].push(result);
    }
  }
  return out;
}

export const RESULT_MARKER = '@@kernel-result ';

/** Hand a kernel's result to the driver (bench/run.ts) on stdout, then let the process end. */
export function emit(result: unknown): void {
  process.stdout.write(`\n${RESULT_MARKER}${JSON.stringify(result)}\n`);
}
