import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  roleOf,
  runningProcessCount,
  SENTINEL_TEST_PERIODS_MS,
  type SentinelSetHandle,
  sentinelDebug,
  sentinelMaster,
  startSentinelSet,
  waitFor,
  waitForRole,
} from '../src/index';
import { expectPidGone } from './helpers';

describe('startSentinelSet', () => {
  let set: SentinelSetHandle;
  const pids = new Set<number>();
  const remember = () => {
    for (const node of [set.primary, set.replica, ...set.sentinels]) pids.add(node.pid);
  };

  beforeAll(async () => {
    const startedAt = Date.now();
    set = await startSentinelSet();
    console.log(JSON.stringify({ measure: 'sentinel-set-start', ms: Date.now() - startedAt }));
    remember();
  });

  afterAll(async () => {
    await set?.stop();
    await set?.stop();
    expect(runningProcessCount()).toBe(0);
    for (const pid of pids) expectPidGone(pid);
  });

  it('starts three sentinels that see each other, the primary and the replica', async () => {
    expect(set.masterName).toBe('mymaster');
    expect(set.sentinels).toHaveLength(3);
    for (const sentinel of set.sentinels) {
      const master = await sentinelMaster(sentinel, 'mymaster');
      expect(master.port).toBe(String(set.primary.port));
      expect(master['num-other-sentinels']).toBe('2');
      expect(master['num-slaves']).toBe('1');
      expect(master['down-after-milliseconds']).toBe('1000');
      expect(master['failover-timeout']).toBe('5000');
    }
    for (const sentinel of set.sentinels) {
      const periods = await sentinelDebug(sentinel);
      for (const [name, ms] of Object.entries(SENTINEL_TEST_PERIODS_MS)) {
        expect(periods[name.toUpperCase()], name).toBe(String(ms));
      }
    }
    expect(await set.currentPrimary()).toBe(set.primary);
    expect(set.sentinelAddresses()).toEqual(set.sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })));
    expect((await set.replica.info('replication')).master_link_status).toBe('up');
  });

  it('promotes the replica when the primary is killed, and the old primary rejoins as replica on restart', async () => {
    expect(
      await set.primary.pipeline([
        ['SET', 'before', '1'],
        ['WAIT', '1', '2000'],
      ]),
    ).toEqual(['OK', 1]);
    const killedAt = Date.now();
    await set.primary.kill();
    await waitFor(async () => (await set.currentPrimary()) === set.replica, {
      timeoutMs: 15_000,
      what: 'the sentinels to name the replica as primary',
    });
    await waitForRole(set.replica, 'master', 10_000);
    console.log(JSON.stringify({ measure: 'sentinel-failover', ms: Date.now() - killedAt }));
    expect(await set.replica.command('GET', 'before')).toBe('1');
    expect(await set.replica.command('SET', 'after', '2')).toBe('OK');

    const restartedAt = Date.now();
    await set.primary.restart();
    remember();
    // Sentinel reconverts a returning old primary on an INFO poll 4 publish periods after it
    // reported `master`: ~2 s with SENTINEL_TEST_PERIODS_MS (~10 s with Sentinel's defaults).
    await waitForRole(set.primary, 'slave', 15_000);
    console.log(JSON.stringify({ measure: 'sentinel-rejoin', ms: Date.now() - restartedAt }));
    expect(await roleOf(set.primary)).toBe('slave');
    expect(await set.primary.command('GET', 'after')).toBe('2');
  });
});
