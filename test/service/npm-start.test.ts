import { describe, expect, it } from 'vitest';
import { Child } from './helpers.ts';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

// The demo boots an agent team (the SDK and the agent layer load on every worker thread under tsx): 10-20 s on a
// loaded 2-core host, so these tests get more than the default 30 s.
describe('npm start: the demo system as a service', { timeout: 90_000 }, () => {
  it('prints where metrics, health and the web view are, runs the workload with progress and exits 0 by itself', async () => {
    const child = new Child(npm, ['start', '--silent', '--', '--ops-port', '0']);
    const { code } = await child.exited;
    expect(child.stderr).toBe('');
    expect(code).toBe(0);
    const out = child.stdout;
    expect(out).toMatch(/^troupe: metrics {3}http:\/\/127\.0\.0\.1:\d+\/metrics\n/);
    expect(out).toMatch(/\ntroupe: health {4}http:\/\/127\.0\.0\.1:\d+\/healthz http:\/\/127\.0\.0\.1:\d+\/readyz\n/);
    expect(out).toMatch(/\ntroupe: web view {2}http:\/\/127\.0\.0\.1:\d+\/\n/);
    expect(out).toMatch(/\ntroupe: demo started \(2 worker threads, data in \S+troupe-demo-\w+\)\n/); // the agents are durable: a scratch data dir
    // the agent team: the manager's plan ran as a task graph, through a crash and a rate limit, with a handoff
    expect(out).toMatch(/\ndemo: model {4}local Messages API server http:\/\/127\.0\.0\.1:\d+ /);
    expect(out).toMatch(/\ndemo: crash {4}researcher '\w+' crashed \(ERR_MODEL_UNAVAILABLE\): restart\n/);
    expect(out).toMatch(/\ndemo: progress task prior-art \(research\) attempt 1 failed \(ERR_ACTOR_CRASHED\): retrying\n/);
    for (const task of ['survey (research)', 'prior-art (research)', 'implement (code)', 'review (review)']) expect(out).toContain(`\ndemo: progress task ${task} completed\n`);
    expect(out).toMatch(/\ndemo: result {3}4\/4 tasks done; /);
    expect(out).toMatch(/\ndemo: usage {4}coder 'linus': 2 runs, \d+ turns, .*\(rate-limited 1, received 1 handoff\)\n/);
    expect(out).toMatch(/\ndemo: handoff {2}reviewer 'barbara' handed its task to coder 'linus' \(code\)/);
    expect(out).toMatch(/\ndemo: recovered 1 rate limit\(s\) waited out, 1 crash\(es\) restarted by the supervisor and retried by the task graph\n/);
    expect(out).toMatch(/\ntroupe: run done: draining \(grace 10000 ms\)\ntroupe: demo shut down cleanly\n$/);
  });

  it('--serve keeps it running after the workload, its ops server answers, and SIGTERM ends it with 0', async () => {
    const child = Child.troupe(['start', 'examples/demo-system.ts', '--serve', '--ops-port', '0']);
    const [, url] = await child.waitFor(/troupe: metrics {3}(http:\/\/127\.0\.0\.1:\d+)\/metrics/);
    await child.waitFor(/troupe: run done; serving until SIGTERM or SIGINT \(--serve\)\n/, 75_000);
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/^troupe_/m);
    child.kill('SIGTERM');
    expect((await child.exited).code).toBe(0);
    expect(child.stdout).toMatch(/troupe: SIGTERM: draining \(grace 10000 ms\)\ntroupe: demo shut down cleanly\n$/);
  });
});
