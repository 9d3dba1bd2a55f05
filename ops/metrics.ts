import { Registry, collectDefaultMetrics, Gauge } from 'prom-client';
import type { Runtime } from '../runtime/runtime.ts';

/** One prom-client Registry per server, filled from the runtime's threads at scrape time. */
export class OpsMetrics {
  readonly registry = new Registry();
  constructor(private readonly runtime: Runtime) {
    collectDefaultMetrics({ register: this.registry });
    new Gauge({ name: 'troupe_up', help: '1 while the runtime answers', registers: [this.registry] }).set(1);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  async scrape(): Promise<string> {
    void this.runtime;
    return this.registry.metrics();
  }

  close(): void {
    this.registry.clear();
  }
}
