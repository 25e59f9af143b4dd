/**
 * The invalidation bus on a Redis Cluster (one 6-node cluster for the file): sharded pub/sub
 * (`SPUBLISH`/`SSUBSCRIBE` on the channel's owning primary, proven by `PUBSUB SHARDNUMSUB` and
 * `INFO commandstats`), `sharded: false` (classic), no handles left by close(), a slot move and a
 * SIGKILLed owning primary: each loss of the subscription is reported as a gap (the attached L1
 * is flushed) and delivery resumes on the new owner.
 */
import { createEntry } from '@dc/core';
import { keySlot } from '@dc/hashing';
import { type RedisClusterHandle, type RedisNode, startCluster, waitFor } from '@dc/testkit';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attachInvalidationBus, createL1Store, type L1Store } from '../../l1/src/index';
import { createRedisBus, failFastClusterOptions, type RedisInvalidationBus } from '../src/index';
import { printCounters, r1 } from './chaos-helpers';

let cluster: RedisClusterHandle;
const clients: Cluster[] = [];

/** One app instance's own cluster client, as each process would have. */
async function openClient(extra: { keyPrefix?: string } = {}): Promise<Cluster> {
  const client = new Cluster(cluster.startupNodes(), { ...failFastClusterOptions(1_000), ...extra });
  client.on('error', () => {});
  clients.push(client);
  await new Promise((resolve) => client.once('ready', resolve));
  return client;
}

beforeAll(async () => {
  cluster = await startCluster();
});
afterAll(async () => {
  for (const client of clients) client.disconnect();
  await cluster?.stop();
});

/** A channel name whose slot is `slot` (brute force over a counter). */
function channelInSlot(prefix: string, slot: number): string {
  for (let i = 0; i < 1_000_000; i++) {
    if (keySlot(`${prefix}${i}`) === slot) return `${prefix}${i}`;
  }
  throw new Error(`no channel found for slot ${slot}`);
}

/** Two instances (own client, bus, L1, link) on one channel. */
async function twoInstances(channel: string, sharded: 'auto' | boolean = 'auto') {
  const [clientA, clientB] = await Promise.all([openClient(), openClient()]);
  const busA = createRedisBus({ client: clientA, channel, sharded });
  const busB = createRedisBus({ client: clientB, channel, sharded });
  await Promise.all([busA.ready(), busB.ready()]);
  const l1A = createL1Store<number>({ maxEntries: 1_000, defaultTtlMs: 600_000 });
  const l1B = createL1Store<number>({ maxEntries: 1_000, defaultTtlMs: 600_000 });
  const linkA = attachInvalidationBus(l1A, busA, { instanceId: 'A' });
  const linkB = attachInvalidationBus(l1B, busB, { instanceId: 'B' });
  return {
    busA,
    busB,
    l1A,
    l1B,
    linkB,
    async close() {
      await Promise.all([linkA.detach(), linkB.detach()]);
      await Promise.all([busA.close(), busB.close()]);
    },
  };
}

const entry = (value: number) => createEntry(value, { now: Date.now(), ttlMs: 60_000 });

/** B caches `key`, A writes it: ms until B's L1 no longer holds it. */
async function evictionLatencyMs(l1A: L1Store<number>, l1B: L1Store<number>, key: string, timeoutMs: number) {
  await l1B.set(key, entry(0));
  const t0 = performance.now();
  await l1A.set(key, entry(1));
  await waitFor(async () => (await l1B.get(key)) === undefined, {
    timeoutMs,
    intervalMs: 1,
    what: `B's L1 to drop ${key}`,
  });
  return performance.now() - t0;
}

async function commandCalls(node: RedisNode, command: string): Promise<number> {
  const stats = await node.info('commandstats');
  return Number(stats[`cmdstat_${command}`]?.match(/calls=(\d+)/)?.[1] ?? 0);
}

/** `[channel, count]` replies of PUBSUB NUMSUB / SHARDNUMSUB, as the count. */
async function subscribers(node: RedisNode, sub: 'NUMSUB' | 'SHARDNUMSUB', channel: string) {
  const reply = (await node.call(['PUBSUB', sub, channel])) as unknown[];
  return Number(reply[1]);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

describe('createRedisBus on a cluster', () => {
  it('rejects `sharded: true` without a Cluster client and a `sharded` that is not a boolean or auto', () => {
    expect(() => createRedisBus({ connection: 'redis://127.0.0.1:1', sharded: true })).toThrow(
      /needs a Cluster client/,
    );
    expect(() =>
      createRedisBus({ connection: 'redis://127.0.0.1:1', sharded: 'yes' as unknown as boolean }),
    ).toThrow(/`sharded` must be/);
  });

  it('uses sharded pub/sub on the owning primary and evicts B within 100 ms of a write on A', async () => {
    const channel = 'inv:sharded';
    const owner = await cluster.primaryForSlot(keySlot(channel));
    const app = await twoInstances(channel);
    expect(app.busA.transport).toBe('sharded');
    expect(app.busB.transport).toBe('sharded');
    const latencies: number[] = [];
    for (let i = 0; i < 30; i++) latencies.push(await evictionLatencyMs(app.l1A, app.l1B, `k${i}`, 1_000));
    const primaries = await cluster.primaries();
    const classicSubscribers = await Promise.all(primaries.map((p) => subscribers(p, 'NUMSUB', channel)));
    const classicPublishes = await Promise.all(cluster.nodes.map((n) => commandCalls(n, 'publish')));
    printCounters({
      scenario: 'bus-cluster-sharded',
      evictions: latencies.length,
      p50Ms: r1(median(latencies)),
      maxMs: r1(Math.max(...latencies)),
    });
    expect(Math.max(...latencies)).toBeLessThanOrEqual(100);
    expect(await subscribers(owner, 'SHARDNUMSUB', channel)).toBe(2);
    expect(classicSubscribers).toEqual(primaries.map(() => 0));
    expect(await commandCalls(owner, 'spublish')).toBeGreaterThanOrEqual(30);
    expect(classicPublishes.reduce((a, b) => a + b, 0)).toBe(0);
    expect(app.busB.gaps).toBe(0);
    await app.close();
  });

  it('uses classic pub/sub with `sharded: false`', async () => {
    const channel = 'inv:classic';
    const owner = await cluster.primaryForSlot(keySlot(channel));
    const app = await twoInstances(channel, false);
    expect(app.busA.transport).toBe('classic');
    for (let i = 0; i < 5; i++)
      expect(await evictionLatencyMs(app.l1A, app.l1B, `c${i}`, 1_000)).toBeLessThan(1_000);
    const perNode = await Promise.all(cluster.nodes.map((n) => subscribers(n, 'NUMSUB', channel)));
    const publishes = await Promise.all(cluster.nodes.map((n) => commandCalls(n, 'publish')));
    expect(perNode.reduce((a, b) => a + b, 0)).toBe(2);
    expect(await subscribers(owner, 'SHARDNUMSUB', channel)).toBe(0);
    expect(publishes.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(5);
    await app.close();
  });

  it("subscribes to the channel as SPUBLISH sends it under the client's keyPrefix", async () => {
    const [clientA, clientB] = await Promise.all([
      openClient({ keyPrefix: 'app:' }),
      openClient({ keyPrefix: 'app:' }),
    ]);
    const busA = createRedisBus({ client: clientA, channel: 'inv:prefixed' });
    const busB = createRedisBus({ client: clientB, channel: 'inv:prefixed' });
    await Promise.all([busA.ready(), busB.ready()]);
    const received: string[] = [];
    busB.subscribe((message) => received.push(message.origin));
    await busA.publish({ version: 1, origin: 'A', keys: ['k'] });
    await waitFor(() => received.includes('A'), { timeoutMs: 1_000, what: 'B to receive the message' });
    const owner = await cluster.primaryForSlot(keySlot('app:inv:prefixed'));
    expect(await subscribers(owner, 'SHARDNUMSUB', 'app:inv:prefixed')).toBe(2);
    await Promise.all([busA.close(), busB.close()]);
  });

  it('leaves no handles after close()', async () => {
    const client = await openClient();
    // The client's own connection to every node exists before the baseline: the buses use
    // (but do not own) them.
    for (const node of client.nodes('all')) if (node.status === 'wait') node.connect().catch(() => {});
    await waitFor(() => client.nodes('all').every((node) => node.status === 'ready'), {
      timeoutMs: 5_000,
      what: "the client's node connections",
    });
    const counts = () => {
      const byType = new Map<string, number>();
      for (const type of process.getActiveResourcesInfo()) byType.set(type, (byType.get(type) ?? 0) + 1);
      return byType;
    };
    const before = counts();
    const buses: RedisInvalidationBus[] = [
      createRedisBus({ client, channel: 'inv:handles' }),
      createRedisBus({ client, channel: 'inv:handles', sharded: false }),
      createRedisBus({ client, channel: 'inv:handles', sharded: true }),
    ];
    await Promise.all(buses.map((bus) => bus.ready()));
    await Promise.all(buses.map((bus) => bus.publish({ version: 1, origin: 'x', keys: ['k'] })));
    // A bus closed before it decided its transport or subscribed.
    const early = createRedisBus({ client, channel: 'inv:handles' });
    await Promise.all([...buses, early].map((bus) => bus.close()));
    const extra = () => [...counts()].filter(([type, n]) => n > (before.get(type) ?? 0));
    // A socket destroyed by close() leaves the list when libuv closes it, a tick or so later; on a
    // loaded box that can outlast close()'s promise. A leak stays.
    await waitFor(() => extra().length === 0, { timeoutMs: 2_000, what: 'no handles left' }).catch(() => {});
    expect(extra()).toEqual([]);
  });

  it('reports a gap after a slot move and delivers again from the new owner', async () => {
    const ranges = await cluster.slotRanges();
    const from = ranges[0]?.primary as RedisNode;
    const to = ranges.find((r) => r.primary.port !== from.port)?.primary as RedisNode;
    // redis-cli moves the source's lowest-numbered slots first.
    const firstSlot = Math.min(...ranges.filter((r) => r.primary.port === from.port).map((r) => r.start));
    const channel = channelInSlot('inv:moved:', firstSlot);
    const app = await twoInstances(channel);
    await app.l1B.set('stale', entry(1));
    await cluster.reshard({ from, to, slots: 1 });
    const movedAt = performance.now();
    await waitFor(() => app.busB.gaps >= 1, { timeoutMs: 10_000, what: 'a gap on B after the slot move' });
    const gapAfterMs = performance.now() - movedAt;
    expect(await app.l1B.get('stale')).toBeUndefined();
    expect(app.linkB.stats().resyncs).toBeGreaterThanOrEqual(1);
    await waitFor(async () => (await subscribers(to, 'SHARDNUMSUB', channel)) === 2, {
      timeoutMs: 10_000,
      what: 'both buses subscribed on the new owner',
    });
    const latency = await evictionLatencyMs(app.l1A, app.l1B, 'after-move', 5_000);
    printCounters({ scenario: 'bus-cluster-slot-move', gapAfterMs: r1(gapAfterMs), evictMs: r1(latency) });
    await app.close();
  });

  it('resolves ready() when the server refuses SSUBSCRIBE, subscribing with the node credentials', async () => {
    // A user that may do everything except SSUBSCRIBE, on every node.
    await Promise.all(
      cluster.nodes.map((node) =>
        node.command('ACL', 'SETUSER', 'nosub', 'on', '>pw', '~*', '&*', '+@all', '-ssubscribe'),
      ),
    );
    const client = new Cluster(cluster.startupNodes(), {
      ...failFastClusterOptions(1_000),
      redisOptions: { ...failFastClusterOptions(1_000).redisOptions, username: 'nosub', password: 'pw' },
    });
    client.on('error', () => {});
    clients.push(client);
    const bus = createRedisBus({ client, channel: 'inv:refused' });
    await bus.ready();
    expect(bus.transport).toBe('sharded');
    const owner = await cluster.primaryForSlot(keySlot('inv:refused'));
    expect(await subscribers(owner, 'SHARDNUMSUB', 'inv:refused')).toBe(0);
    await bus.publish({ version: 1, origin: 'x', keys: ['k'] });
    await bus.close();
  });

  /**
   * B caches a key, the primary owning the channel's slot is SIGKILLed: B must report a gap
   * (its L1 flushed) and receive A's writes again once the replica took over.
   */
  async function primaryKill(channel: string, sharded: boolean) {
    const victim = await cluster.primaryForSlot(keySlot(channel));
    const app = await twoInstances(channel, sharded);
    await app.l1B.set('stale', entry(1));
    const killedAt = performance.now();
    await victim.kill();
    await waitFor(() => app.busB.gaps >= 1, { timeoutMs: 15_000, what: 'a gap on B after the failover' });
    const gapAfterMs = performance.now() - killedAt;
    expect(await app.l1B.get('stale')).toBeUndefined();
    expect(app.linkB.stats().resyncs).toBeGreaterThanOrEqual(1);
    // Nodes agree on the new owner one by one: the one testkit asks may still name the victim.
    const promoted = await waitFor(
      async () => {
        const primary = await cluster.primaryForSlot(keySlot(channel));
        return primary.port === victim.port ? undefined : primary;
      },
      { timeoutMs: 10_000, what: 'every node to name the promoted primary' },
    );
    const count = async () =>
      sharded
        ? subscribers(promoted, 'SHARDNUMSUB', channel)
        : (
            await Promise.all((await cluster.primaries()).map((p) => subscribers(p, 'NUMSUB', channel)))
          ).reduce((a, b) => a + b, 0);
    await waitFor(async () => (await count()) >= 1, { timeoutMs: 10_000, what: "B's new subscription" });
    // A's client may still route the publish to the dead node until it refreshes: the link retries.
    const latency = await evictionLatencyMs(app.l1A, app.l1B, 'after-failover', 10_000);
    printCounters({
      scenario: sharded ? 'bus-cluster-primary-kill' : 'bus-cluster-primary-kill-classic',
      gapAfterMs: r1(gapAfterMs),
      gapsA: app.busA.gaps,
      gapsB: app.busB.gaps,
      evictMs: r1(latency),
    });
    await app.close();
    return promoted;
  }

  it('reports a gap when the owning primary is SIGKILLed and delivers again after failover', async () => {
    await primaryKill('inv:failover', true);
  });

  it('reports a gap with `sharded: false` too when the node it subscribed on is SIGKILLed', async () => {
    // A primary that still has its replica (not the one promoted by the previous test).
    const ranges = await cluster.slotRanges();
    const range = ranges.find((r) => r.replicas.some((replica) => replica.state === 'running'));
    if (range === undefined) throw new Error('no primary with a running replica');
    await primaryKill(channelInSlot('inv:classic-failover:', range.start), false);
  });
});
