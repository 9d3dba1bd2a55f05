// The tracing extension on every thread (runtime/extensions.ts): workers import this module (with the options in
// its query string) at boot, before any message, and install the OpenTelemetry message tracer there. Each thread
// has its own OpenTelemetry globals: `?setup=<file URL>` names a module imported first, to register that thread's
// tracer provider (and exporter).
import { setMessageTracer } from '../../runtime/tracing.ts';
import { otelMessageTracer } from './otel-tracer.ts';

const setup = new URL(import.meta.url).searchParams.get('setup');
if (setup !== null && setup !== '') await import(setup);

export const THREAD_MODULE = import.meta.url.split('?')[0]!;

export function attachToThread(): void {
  setMessageTracer(otelMessageTracer());
}
