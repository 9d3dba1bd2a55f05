// `troupe/otel`: OpenTelemetry spans for handled messages (needs the optional peer dependency @opentelemetry/api).
// Trace context travels with every message whether or not this is installed (runtime/tracing.ts); this adds spans.
import { pathToFileURL } from 'node:url';
import type { TracerProvider } from '@opentelemetry/api';
import { registerThreadExtension } from '../../runtime/extensions.ts';
import { setMessageTracer } from '../../runtime/tracing.ts';
import { otelMessageTracer, type OtelMessageTracer } from './otel-tracer.ts';
import { THREAD_MODULE } from './thread.ts';
import { TracingSetupError } from '../errors.ts';

export { otelMessageTracer, PROVIDER_CHECK_MS, type OtelMessageTracer } from './otel-tracer.ts';
export { TracingSetupError } from '../errors.ts';

export interface TracingOptions {
  /**
   * A module (file URL, or path) each worker thread imports before it takes any message, to register its own tracer
   * provider: OpenTelemetry's globals are per thread, so a provider registered on the main thread records only the
   * main thread's messages. Without it, workers carry trace context on but record no spans.
   */
  workerSetup?: string | URL;
  /** The main thread's provider (default: the global one, once registered). */
  tracerProvider?: TracerProvider;
}

/**
 * Record a span per handled message on this thread now, and on the workers of every runtime started from now on
 * (call it before Runtime.start). Spans record only while a tracer provider is registered (looked at every
 * PROVIDER_CHECK_MS: a provider registered later records from then on). Each handler runs inside its span's context:
 * with a context manager registered on the thread (NodeTracerProvider.register(), or context-async-hooks), what it
 * starts itself (spans, an instrumented HTTP client's) is that span's child.
 */
export function installTracing(options: TracingOptions = {}): void {
  const setup = options.workerSetup === undefined ? '' : setupUrl(options.workerSetup);
  const module = setup === '' ? THREAD_MODULE : `${THREAD_MODULE}?setup=${encodeURIComponent(setup)}`;
  const tracer = otelMessageTracer(options.tracerProvider);
  setMessageTracer(tracer);
  registerThreadExtension({ module, attach: () => void setMessageTracer(tracer) });
}

/** Stop recording spans on this thread (workers already started keep theirs). */
export function uninstallTracing(): void {
  const previous = setMessageTracer(undefined) as OtelMessageTracer | undefined;
  previous?.close?.();
}

function setupUrl(value: string | URL): string {
  if (value instanceof URL) return value.href;
  if (typeof value !== 'string' || value === '') throw new TracingSetupError(`workerSetup must be a file URL or a path, not ${JSON.stringify(value)}`);
  return /^file:/.test(value) ? value : pathToFileURL(value).href;
}
