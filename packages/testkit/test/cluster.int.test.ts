import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type RedisClusterHandle,
  type RedisNode,
  runningProcessCount,
  startCluster,
  waitForRole,
} from '../src/index';
import { ephemeralPortMin, expectPidGone } from './helpers';

/** A key whose slot lies in [start, end], found by asking the cluster (bounded search). */
async function keyInRange(node: RedisNode, start: number, end: number): Promise<string> {
  for (let i = 0; i < 500; i++) {
    const key = `testkit:${i}`;
    const slot = Number(await node.command('CLUSTER', 'KEYSLOT', key));
    if (slot >= start && slot <= end) return key;
  }
  throw new Error(`no key found for slots ${start}-${end}`);
}

describe('startCluster', () => {
  let cluster: RedisClusterHandle;
  const pids = new Set<number>();
  const remember = () => {
    for (const node of cluster.nodes) if (node.state === 'running') pids.add(node.pid);
  };

  beforeAll(async () => {
    const startedAt = Date.now();
    cluster = await startCluster();
    console.log(JSON.stringify({ measure: 'cluster-start', ms: Date.now() - startedAt }));
    remember();
  });

  afterAll(async () => {
    await cluster?.stop();
    await cluster?.stop();
    expect(runningProcessCount()).toBe(0);
    for (const pid of pids) expectPidGone(pid);
  });

  it('creates three primaries and three synced replicas covering all 16384 slots', async () => {
    expect(cluster.nodes).toHaveLength(6);
    const primaries = await cluster.primaries();
    const replicas = await cluster.replicas();
    expect(primaries).toHaveLength(3);
    expect(replicas).toHaveLength(3);
    for (const node of cluster.nodes) {
      expect(node.port + 10_000).toBeLessThan(Math.min(65_536, ephemeralPortMin()));
      expect(await node.command('CONFIG', 'GET', 'cluster-node-timeout')).toBe('cluster-node-timeout\n1000');
      expect(await node.command('CONFIG', 'GET', 'repl-diskless-sync-delay')).toBe(
        'repl-diskless-sync-delay\n0',
      );
    }
    for (const replica of replicas) {
      const info = await replica.info('replication');
      expect(info.master_link_status).toBe('up');
      expect(primaries.map((p) => String(p.port))).toContain(info.master_port);
    }
    const ranges = await cluster.slotRanges();
    expect(ranges.map((r) => [r.start, r.end])).toEqual([
      [0, 5460],
      [5461, 10922],
      [10923, 16383],
    ]);
    expect(new Set(ranges.map((r) => r.primary))).toEqual(new Set(primaries));
    expect(ranges.every((r) => r.replicas.length === 1)).toBe(true);
    expect(cluster.startupNodes()).toEqual(cluster.nodes.map((n) => ({ host: '127.0.0.1', port: n.port })));
  });

  it('writes and reads a key on every primary when keys are chosen by slot range', async () => {
    const ranges = await cluster.slotRanges();
    const client = new Cluster(cluster.startupNodes(), { lazyConnect: true });
    client.on('error', () => {});
    try {
      for (const range of ranges) {
        const key = await keyInRange(range.primary, range.start, range.end);
        // The owning primary accepts the write directly; any other node redirects.
        expect(await range.primary.command('SET', key, `v-${range.primary.port}`)).toBe('OK');
        expect(await range.primary.command('GET', key)).toBe(`v-${range.primary.port}`);
        const other = ranges.find((r) => r !== range)!.primary;
        await expect(other.command('GET', key)).rejects.toThrow(/MOVED/);
        expect(await client.get(key)).toBe(`v-${range.primary.port}`);
        expect(await client.set(`${key}:client`, 'x')).toBe('OK');
        expect(
          await cluster.primaryForSlot(Number(await range.primary.command('CLUSTER', 'KEYSLOT', key))),
        ).toBe(range.primary);
      }
    } finally {
      client.disconnect();
    }
  });

  it('promotes the replica when a primary is killed, and is healthy again after the old primary restarts', async () => {
    const [range] = await cluster.slotRanges();
    const victim = range!.primary;
    const heir = range!.replicas[0]!;
    const key = await keyInRange(victim, range!.start, range!.end);
    expect(
      await victim.pipeline([
        ['SET', key, 'kept'],
        ['WAIT', '1', '2000'],
      ]),
    ).toEqual(['OK', 1]);

    const killedAt = Date.now();
    await victim.kill();
    await waitForRole(heir, 'master', 10_000);
    await cluster.waitForHealthy(10_000);
    console.log(JSON.stringify({ measure: 'cluster-failover', ms: Date.now() - killedAt }));

    expect(await cluster.primaries()).toHaveLength(3);
    expect(await cluster.primaries()).toContain(heir);
    expect(await cluster.primaryForSlot(range!.start)).toBe(heir);
    expect(await heir.command('GET', key)).toBe('kept');

    await victim.restart();
    remember();
    await waitForRole(victim, 'slave', 15_000);
    await cluster.waitForHealthy(15_000);
    expect(await cluster.replicas()).toContain(victim);
    expect(await cluster.replicas()).toHaveLength(3);
  });

  it('skips a frozen node in role queries and serves again after resume', async () => {
    const [replica] = await cluster.replicas();
    replica!.freeze();
    try {
      expect(await cluster.replicas()).toHaveLength(2);
    } finally {
      replica!.resume();
    }
    await cluster.waitForHealthy(10_000);
    expect(await cluster.replicas()).toHaveLength(3);
  });
});
