// What tracing costs tell throughput (issue 10: with no provider registered <= 2%). One runtime on the calling
// thread (workers: 0), three modes in this process, interleaved round by round in pairs against no tracer:
// - none: no tracer installed (the kernel only carries trace context: a string per message, made per handling);
// - off:  troupe/otel's tracer installed, no OpenTelemetry provider registered (it checks per message and records nothing);
// - on:   a real BasicTracerProvider registered (BatchSpanProcessor, an exporter that counts and drops): a span per message.
// Two workloads: 100k tells from outside (each starts a trace), and 100k tells made by one handler (each continues
// its trace). Ratios: median over rounds of off / none and on / none (paired). 'off' and 'on' are each interleaved
// with 'none' on their own: in one three-way interleave (none off on, on off none, ...) 'off' ran right after an 'on'
// round every other round and 'none' never did, so whatever a round of a span per message leaves behind (a larger
// heap, code reoptimised for the other path) fell on 'off' alone.
import '../lib/env.ts';
import { trace, type ProxyTracerProvider } from '@opentelemetry/api';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { Runtime } from '../../runtime/index.ts';
import { setMessageTracer } from '../../runtime/tracing.ts';
import { otelMessageTracer } from '../../ops/tracing/otel-tracer.ts';
import { blaster, tally } from '../actors.ts';
import { emit, interleave } from '../lib/measure.ts';
import { makePairedRow } from '../lib/rows.ts';

const N = Number(process.env.TROUPE_BENCH_TRACING_N ?? 100_000);
let exported = 0;
const exporter: SpanExporter = {
  export(spans, done) {
    exported += spans.length;
    done({ code: 0 });
  },
  shutdown: async () => undefined,
};
// Batched, as a service would export them; the queue holds a whole round (none dropped), flushed after each round.
const processor = new BatchSpanProcessor(exporter, { maxQueueSize: 2 * N + 10, maxExportBatchSize: 4096, scheduledDelayMillis: 20 });
const provider = new BasicTracerProvider({ spanProcessors: [processor] });

// Registered once; 'off' rounds unset the global proxy's delegate (what it reads before any provider is registered).
trace.setGlobalTracerProvider(provider);
const proxy = trace.getTracerProvider() as ProxyTracerProvider;

function mode(m: 'none' | 'off' | 'on'): void {
  setMessageTracer(m === 'none' ? undefined : tracer);
  proxy.setDelegate(m === 'on' ? provider : (undefined as never));
  tracer.refresh(); // instead of waiting for its next look (PROVIDER_CHECK_MS)
}

const tracer = otelMessageTracer();
const rt = await Runtime.start({ workers: 0, stallMs: 0, spareWorker: false });
const target = await rt.spawn(tally, { pin: 0 });
const sender = await rt.spawn(blaster, { pin: 0 });
let total = 0;

/** A round's throughput: per second of wall clock, and per second of this process's CPU time (workers: 0). */
interface Trial {
  wall: number;
  cpu: number;
}

async function timed(work: () => Promise<number>): Promise<Trial> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const count = await work();
  const c = process.cpuUsage(c0);
  const s = (performance.now() - t0) / 1000;
  if (count !== (total += N)) throw new Error(`counted ${count}, expected ${total}`);
  await processor.forceFlush();
  return { wall: N / s, cpu: N / ((c.user + c.system) / 1e6) };
}

function fromOutside(m: 'none' | 'off' | 'on'): Promise<Trial> {
  mode(m);
  return timed(() => {
    for (let i = 0; i < N; i++) rt.tell(target, 'add', 1);
    return rt.ask(target, 'get', undefined, { timeoutMs: 60_000 });
  });
}

function fromHandler(m: 'none' | 'off' | 'on'): Promise<Trial> {
  mode(m);
  return timed(() => rt.ask(sender, 'blast', { target, n: N }, { timeoutMs: 60_000 }));
}

const rounds = { warmup: 2, runs: 7 };
const rows = [];
for (const [label, run] of [['from outside', fromOutside], ['from a handler', fromHandler]] as const) {
  const before = exported;
  const off = await interleave(rounds, { none: () => run('none'), off: () => run('off') });
  const on = await interleave(rounds, { none: () => run('none'), on: () => run('on') });
  const spans = exported - before;
  // Every 'on' round recorded a span per message: the tracer did work, not a no-op.
  if (spans < (rounds.warmup + rounds.runs) * N) throw new Error(`${label}: ${spans} spans exported, expected at least ${(rounds.warmup + rounds.runs) * N}`);
  const wall = (trials: Trial[]) => trials.map((t) => t.wall);
  const cpu = (trials: Trial[]) => trials.map((t) => t.cpu);
  rows.push(makePairedRow({
    figure: `11d. same-thread tell ${label}, troupe/otel installed, no provider`, unit: 'msg/s', baselineName: 'no tracer',
    target: { on: 'ratio', op: '>=', value: 0.98 }, runs: { troupe: wall(off.off), baseline: wall(off.none) },
  }));
  // The same rounds per CPU second: on a shared host another process's slices stretch the wall clock of a round,
  // not the CPU time this process spent on it (one thread: workers 0).
  rows.push(makePairedRow({
    figure: `11d. (per CPU second) same-thread tell ${label}, troupe/otel installed, no provider`, unit: 'msg/s', baselineName: 'no tracer',
    target: { on: 'ratio', op: '>=', value: 0.98 }, runs: { troupe: cpu(off.off), baseline: cpu(off.none) },
  }));
  rows.push(makePairedRow({
    figure: `11e. same-thread tell ${label}, a span per message (in-process SDK)`, unit: 'msg/s', baselineName: 'no tracer',
    runs: { troupe: wall(on.on), baseline: wall(on.none) },
  }));
}
mode('none');
tracer.close();
await rt.shutdown();
await provider.shutdown();
emit({ rows });
