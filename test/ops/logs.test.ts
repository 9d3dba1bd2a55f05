import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';

describe('logs', () => {
  it('one JSON line per crash with actor id, kind, message type, incarnation and the cause; nothing per message at info', async () => {
    const out = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['--import', 'tsx', 'test/fixtures/ops-crash-log.ts'], { env: { ...process.env, TROUPE_LOG_LEVEL: 'info' } }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
    });
    const lines = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, any>);
    const crashes = lines.filter((l) => l.msg === 'actor crashed');
    expect(crashes).toHaveLength(2);
    const supervised = crashes.find((c) => c.actor === 'ada')!;
    expect(supervised).toMatchObject({ level: 40, kind: 'flaky', messageType: 'crash', incarnation: 0, supervisor: 'lab', decision: 'restart', err: { message: 'the cause' } });
    expect(supervised.err.stack).toContain('the cause');
    // Sent from outside with no trace, the handler sending and logging nothing: no trace id is invented for it.
    for (const c of crashes) expect(c).not.toHaveProperty('trace_id');
    const alone = crashes.find((c) => c.actor === 'loner')!;
    expect(alone).toMatchObject({ kind: 'flaky', messageType: 'crash', incarnation: 0, node: 1, err: { message: 'unsupervised cause' } });
    // 1000 messages, an ask, a scrape: only the server's start line at info
    expect(lines.filter((l) => l.level <= 30).map((l) => l.msg)).toEqual(['ops server listening']);
  }, 30_000);
});
