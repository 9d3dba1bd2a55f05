import { afterEach } from 'vitest';
import { Runtime, type RuntimeOptions } from '../../runtime/index.ts';

process.env.TROUPE_LOG_LEVEL ??= 'silent';

const open: Runtime[] = [];

/** A runtime that is shut down after the test, whatever happens. */
export async function startRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  const rt = await Runtime.start(options);
  open.push(rt);
  return rt;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((rt) => rt.shutdown()));
});

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll until `check` holds (for effects on other threads); fails the test after `ms`. */
export async function eventually<T>(check: () => Promise<T | undefined | false> | T | undefined | false, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(5);
  }
}
