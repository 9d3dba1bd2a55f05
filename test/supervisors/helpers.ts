import { Runtime, type RuntimeOptions } from '../../runtime/index.ts';
import { startRuntime } from '../kernel/helpers.ts';
import type { CrashReport } from '../../supervisors/index.ts';
import type { ActorRef, TerminationNotice } from '../../actors/define.ts';
import type { flaky } from '../fixtures/flaky.ts';

export { startRuntime, eventually, sleep } from '../kernel/helpers.ts';

/** A runtime that records crash reports. */
export async function runtimeWithCrashes(options: RuntimeOptions = {}): Promise<{ rt: Runtime; crashes: CrashReport[] }> {
  const rt = await startRuntime(options);
  const crashes: CrashReport[] = [];
  rt.onCrash((c) => crashes.push(c));
  return { rt, crashes };
}

/**
 * The restart-in-place scenario: watch `a`, tell it 5, ask it to crash, then tell it 1 and 2 (queued behind the
 * crash). A restarted `a` has seen only [1, 2], in order; `crash` rejects with ActorCrashedError.
 */
export function crashBehindMail(rt: Runtime, a: ActorRef<typeof flaky>): { crash: Promise<unknown>; notices: TerminationNotice[] } {
  const notices: TerminationNotice[] = [];
  rt.watch(a, (n) => notices.push(n));
  rt.tell(a, 'add', 5);
  const crash = rt.ask(a, 'crash', 'boom').catch((e: unknown) => e);
  rt.tell(a, 'add', 1);
  rt.tell(a, 'add', 2);
  return { crash, notices };
}
