import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { findBinary } from './binaries.ts';
import { freePort, sleep, until } from './ports.ts';

export interface PrometheusServer {
  /** http://127.0.0.1:<port> */
  url: string;
  /** GET /api/v1/<path>: the `data` of a successful answer; throws with Prometheus's error otherwise. */
  api(path: string): Promise<any>;
  /** An instant query's result vector. */
  query(promql: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
  /** What the server wrote to stderr so far (its log). */
  log(): string;
  close(): Promise<void>;
}

export interface PrometheusOptions {
  /** host:port of each /metrics to scrape, every second (one job, one instance each). */
  targets: string[];
  metricsPath?: string;
  /** Absolute paths of rule files to load (evaluated every second). */
  ruleFiles?: string[];
}

/**
 * A real Prometheus server (Debian's `prometheus`) on 127.0.0.1 with a fresh storage dir, scraping its targets
 * every second (job "troupe"); resolves once /-/ready answers. close() stops it (SIGTERM, SIGKILL after 10 s) and removes the dir.
 */
export async function startPrometheus(options: PrometheusOptions): Promise<PrometheusServer> {
  const bin = findBinary('prometheus');
  if (!bin) throw new Error('prometheus is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'troupe-prometheus-'));
  const config = join(dir, 'prometheus.yml');
  writeFileSync(config, stringify({
    global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
    rule_files: options.ruleFiles ?? [],
    scrape_configs: [{ job_name: 'troupe', metrics_path: options.metricsPath ?? '/metrics', static_configs: [{ targets: options.targets }] }],
  }));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let stderr = '';
  const child: ChildProcess = spawn(bin, [
    `--config.file=${config}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));

  const close = async () => {
    if (!gone) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const api = async (path: string) => {
    const res = await fetch(`${url}/api/v1/${path}`);
    const body = (await res.json()) as { status: string; data?: unknown; error?: string };
    if (body.status !== 'success') throw new Error(`Prometheus ${path}: ${body.error ?? res.status}`);
    return body.data;
  };
  try {
    await until('Prometheus ready', async () => {
      if (gone) throw new Error(`prometheus exited: ${stderr.trim()}`);
      const res = await fetch(`${url}/-/ready`).catch(() => undefined);
      return res?.status === 200;
    }, 30_000, 100);
  } catch (e) {
    await close();
    throw e;
  }
  return {
    url,
    api,
    query: async (q) => ((await api(`query?query=${encodeURIComponent(q)}`)) as { result: any }).result,
    log: () => stderr,
    close,
  };
}

export { sleep };
