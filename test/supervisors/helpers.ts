import { Runtime, type RuntimeOptions } from '../../runtime/index.ts';
import { startRuntime } from '../kernel/helpers.ts';
import type { CrashReport } from '../../supervisors/index.ts';

export { startRuntime, eventually, sleep } from '../kernel/helpers.ts';

/** A runtime that records crash reports. */
export async function runtimeWithCrashes(options: RuntimeOptions = {}): Promise<{ rt: Runtime; crashes: CrashReport[] }> {
  const rt = await startRuntime(options);
  const crashes: CrashReport[] = [];
  rt.onCrash((c) => crashes.push(c));
  return { rt, crashes };
}
