import { describe, expect, it } from 'vitest';
import { ClusterNotInstalledError, Runtime } from '../../runtime/index.ts';

// This file never imports cluster/ (each test file has its own module graph): the kernel alone cannot join.
describe('Runtime.start({ cluster }) without the cluster layer', () => {
  it('fails with a named error, before any worker starts', async () => {
    const err = await Runtime.start({ workers: 1, cluster: { servers: 'nats://127.0.0.1:4222', node: 'n1' } }).catch((e) => e);
    expect(err).toBeInstanceOf(ClusterNotInstalledError);
    expect(err.code).toBe('ERR_CLUSTER_NOT_INSTALLED');
  });
});
