import { describe, expect, it } from 'vitest';
import { Child } from './helpers.ts';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

describe('npm start: the demo system as a service', () => {
  it('prints where metrics, health and the web view are, runs the workload with progress and exits 0 by itself', async () => {
    const child = new Child(npm, ['start', '--silent', '--', '--ops-port', '0']);
    const { code } = await child.exited;
    expect(child.stderr).toBe('');
    expect(code).toBe(0);
    const out = child.stdout;
    expect(out).toMatch(/^troupe: metrics {3}http:\/\/127\.0\.0\.1:\d+\/metrics\n/);
    expect(out).toMatch(/\ntroupe: health {4}http:\/\/127\.0\.0\.1:\d+\/healthz http:\/\/127\.0\.0\.1:\d+\/readyz\n/);
    expect(out).toMatch(/\ntroupe: web view {2}http:\/\/127\.0\.0\.1:\d+\/\n/);
    expect(out).toMatch(/\ntroupe: demo started \(2 worker threads\)\n/);
    expect(out).toMatch(/\ndemo: progress round 1\/2 done\n[\s\S]*\ndemo: progress round 2\/2 done\n/);
    expect(out).toMatch(/\ndemo: crash {4}ERR_ACTOR_CRASHED/);
    expect(out).toMatch(/\ndemo: after {4}ada: "still alive" has 2 words\n/);
    expect(out).toMatch(/\ndemo: reporter heard 5 progress reports\n/);
    expect(out).toMatch(/\ntroupe: run done: draining \(grace 10000 ms\)\ntroupe: demo shut down cleanly\n$/);
  });

  it('--serve keeps it running after the workload, its ops server answers, and SIGTERM ends it with 0', async () => {
    const child = Child.troupe(['start', 'examples/demo-system.ts', '--serve', '--ops-port', '0']);
    const [, url] = await child.waitFor(/troupe: metrics {3}(http:\/\/127\.0\.0\.1:\d+)\/metrics/);
    await child.waitFor(/troupe: run done; serving until SIGTERM or SIGINT \(--serve\)\n/);
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/^troupe_/m);
    child.kill('SIGTERM');
    expect((await child.exited).code).toBe(0);
    expect(child.stdout).toMatch(/troupe: SIGTERM: draining \(grace 10000 ms\)\ntroupe: demo shut down cleanly\n$/);
  });
});
