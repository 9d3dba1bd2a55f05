import {
  context, trace, ProxyTracerProvider, SpanKind, SpanStatusCode, type Context, type Exception, type Span, type SpanContext,
  type Tracer, type TracerProvider,
} from '@opentelemetry/api';
import { tracerChanged, type MessageSpan, type MessageTracer, type SpanOutcome } from '../../runtime/tracing.ts';

/** What the global provider delegates to while none is registered (the API's no-op provider). */
const NOOP_PROVIDER = new ProxyTracerProvider().getDelegate();
const TRACER_NAME = 'troupe';

/** How often the tracer looks again whether a provider is registered (ms); a change is passed to the kernel then. */
export const PROVIDER_CHECK_MS = 100;

export interface OtelMessageTracer extends MessageTracer {
  /** Look now whether a provider is registered (otherwise it is looked at every PROVIDER_CHECK_MS). */
  refresh(): void;
  /** Stop looking (the timer is unref'd: it does not keep a thread alive either way). */
  close(): void;
}

/**
 * The kernel's MessageTracer (runtime/tracing.ts) over the OpenTelemetry API: each handled message becomes a
 * CONSUMER span named '<kind> <type>', child of the span that sent it, with the actor's kind and id, the message
 * type and the outcome. It records only while a tracer provider is registered (the global one, on this thread, or
 * `provider`); otherwise the kernel takes the exact path of no tracer installed and only carries trace context on.
 * Whether one is registered is read every PROVIDER_CHECK_MS, not per message (looking up the global provider per
 * message cost half of the same-thread tell figure), and a change is told to the kernel (tracerChanged), which
 * reads recording() then: per message it compares one variable, whatever the tracer.
 */
export function otelMessageTracer(provider?: TracerProvider): OtelMessageTracer {
  let live: TracerProvider | undefined;
  let tracer: Tracer | undefined;
  const refresh = (): void => {
    const p = provider ?? trace.getTracerProvider();
    const delegate = p instanceof ProxyTracerProvider ? p.getDelegate() : p;
    const next = delegate === NOOP_PROVIDER ? undefined : delegate;
    if (next === live) return;
    tracer = next?.getTracer(TRACER_NAME);
    live = next;
    tracerChanged(); // the kernel reads recording() now, not per message
  };
  refresh();
  const timer = setInterval(refresh, PROVIDER_CHECK_MS);
  timer.unref();
  return {
    refresh,
    close: () => clearInterval(timer),
    recording: () => live !== undefined,
    start(parent, kind, actor, type) {
      if (tracer === undefined) return undefined;
      const ctx = parent === '' ? context.active() : trace.setSpanContext(context.active(), spanContextOf(parent));
      const span = tracer.startSpan(`${kind} ${type}`, {
        kind: SpanKind.CONSUMER,
        attributes: { 'troupe.actor.kind': kind, 'troupe.actor.id': actor, 'troupe.message.type': type },
      }, ctx);
      const sc = span.spanContext();
      if (!trace.isSpanContextValid(sc)) return undefined;
      return new OtelMessageSpan(span, traceparentOf(sc), trace.setSpan(ctx, span));
    },
    outside() {
      if (live === undefined) return ''; // nothing records: no context worth the lookup
      const sc = trace.getSpanContext(context.active());
      return sc !== undefined && trace.isSpanContextValid(sc) ? traceparentOf(sc) : '';
    },
  };
}

class OtelMessageSpan implements MessageSpan {
  constructor(private readonly span: Span, readonly traceparent: string, private readonly context: Context) {}

  /**
   * The handler runs with this span active: `trace.getActiveSpan()` in it, and the spans it or an instrumented library
   * (an HTTP client...) starts, see it as their parent, across awaits too, given a context manager (NodeTracerProvider's
   * register(), or @opentelemetry/context-async-hooks); without one OpenTelemetry has no active context at all.
   */
  run<A, B, C, R>(fn: (a: A, b: B, c: C) => R, a: A, b: B, c: C): R {
    return context.with(this.context, fn, undefined, a, b, c);
  }

  end(outcome: SpanOutcome, error?: unknown): void {
    const span = this.span;
    span.setAttribute('troupe.outcome', outcome);
    if (outcome === 'crashed') {
      span.recordException(error instanceof Error ? error : String(error) as Exception);
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
    } else if (outcome === 'abandoned') {
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'abandoned: the actor was stopped, restarted or its circuit opened' });
    }
    span.end();
  }
}

/** A traceparent as the kernel carries it (always version 00, 55 characters: runtime/tracing.ts). */
function spanContextOf(traceparent: string): SpanContext {
  return {
    traceId: traceparent.slice(3, 35),
    spanId: traceparent.slice(36, 52),
    traceFlags: Number.parseInt(traceparent.slice(53, 55), 16),
    isRemote: true,
  };
}

function traceparentOf(sc: SpanContext): string {
  return `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}
