import {
  context, trace, ProxyTracerProvider, SpanKind, SpanStatusCode, type Exception, type Span, type SpanContext, type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import type { MessageSpan, MessageTracer, SpanOutcome } from '../../runtime/tracing.ts';

/** What the global provider delegates to while none is registered (the API's no-op provider). */
const NOOP_PROVIDER = new ProxyTracerProvider().getDelegate();
const TRACER_NAME = 'troupe';

/**
 * The kernel's MessageTracer (runtime/tracing.ts) over the OpenTelemetry API: each handled message becomes a
 * CONSUMER span named '<kind> <type>', child of the span that sent it, with the actor's kind and id, the message
 * type and the outcome. It records only while a tracer provider is registered (the global one, on this thread, or
 * `provider`); otherwise the kernel stays on its fast path and only carries trace context on.
 */
export function otelMessageTracer(provider?: TracerProvider): MessageTracer {
  let tracer: Tracer | undefined;
  let tracerOf: TracerProvider | undefined;
  const live = (): TracerProvider | undefined => {
    const p = provider ?? trace.getTracerProvider();
    const delegate = p instanceof ProxyTracerProvider ? p.getDelegate() : p;
    return delegate === NOOP_PROVIDER ? undefined : delegate;
  };
  return {
    recording: () => live() !== undefined,
    start(parent, kind, actor, type) {
      const p = live();
      if (p === undefined) return undefined;
      if (tracerOf !== p) {
        tracer = p.getTracer(TRACER_NAME);
        tracerOf = p;
      }
      const ctx = parent === '' ? context.active() : trace.setSpanContext(context.active(), spanContextOf(parent));
      const span = tracer!.startSpan(`${kind} ${type}`, {
        kind: SpanKind.CONSUMER,
        attributes: { 'troupe.actor.kind': kind, 'troupe.actor.id': actor, 'troupe.message.type': type },
      }, ctx);
      const sc = span.spanContext();
      if (!trace.isSpanContextValid(sc)) return undefined;
      return new OtelMessageSpan(span, traceparentOf(sc));
    },
    outside() {
      const sc = trace.getSpanContext(context.active());
      return sc !== undefined && trace.isSpanContextValid(sc) ? traceparentOf(sc) : '';
    },
  };
}

class OtelMessageSpan implements MessageSpan {
  constructor(private readonly span: Span, readonly traceparent: string) {}

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
