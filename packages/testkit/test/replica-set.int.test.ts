import { afterAll, describe, expect, it } from 'vitest';
import { runningProcessCount, startReplicaSet } from '../src/index';
import { expectPidGone } from './helpers';

describe('startReplicaSet', () => {
  const pids: number[] = [];
  afterAll(() => {
    expect(runningProcessCount()).toBe(0);
    for (const pid of pids) expectPidGone(pid);
  });

  it('replicates a write from the primary to a synced replica when started', async () => {
    const set = await startReplicaSet();
    pids.push(set.primary.pid, set.replica.pid);
    try {
      const replication = await set.replica.info('replication');
      expect(replication.role).toBe('slave');
      expect(replication.master_link_status).toBe('up');
      expect(Number(replication.master_port)).toBe(set.primary.port);
      expect((await set.primary.info('replication')).connected_slaves).toBe('1');

      // WAIT counts only writes made on its own connection, hence one pipeline.
      expect(
        await set.primary.pipeline([
          ['SET', 'k', 'v'],
          ['WAIT', '1', '2000'],
        ]),
      ).toEqual(['OK', 1]);
      expect(await set.replica.command('GET', 'k')).toBe('v');
      await expect(set.replica.command('SET', 'k', 'x')).rejects.toThrow(/READONLY/);
    } finally {
      await Promise.all([set.stop(), set.stop()]);
    }
  });

  it('authenticates replication when started with a password', async () => {
    const set = await startReplicaSet({ password: 'pw' });
    pids.push(set.primary.pid, set.replica.pid);
    try {
      expect(
        await set.primary.pipeline([
          ['SET', 'k', 'v'],
          ['WAIT', '1', '2000'],
        ]),
      ).toEqual(['OK', 1]);
      expect(await set.replica.command('GET', 'k')).toBe('v');
    } finally {
      await set.stop();
    }
  });
});
