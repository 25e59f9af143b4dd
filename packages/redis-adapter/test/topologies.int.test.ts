/**
 * Master-replica (with WAIT durability), Sentinel and Ketama-sharded topologies: the conformance
 * suite on each, plus FAULTS S4 (a frozen replica never counts as replicated) and the Ketama
 * remap fraction on a real node added to the ring.
 */
import { createEntry, isDcError } from '@dc/core';
import {
  type RedisNode,
  type ReplicaSetHandle,
  runCacheStoreConformance,
  type SentinelSetHandle,
  startRedis,
  startReplicaSet,
  startSentinelSet,
} from '@dc/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore, failFastRedisOptions, type RedisStoreEvent } from '../src/index';
import { printCounters, r1, startLoopLag } from './chaos-helpers';

const relaxed = { softTimeoutMs: 2_000, hardTimeoutMs: 4_000, failMode: 'closed' as const };

let replicaSet: ReplicaSetHandle;
let sentinelSet: SentinelSetHandle;
let shardNodes: RedisNode[];
let shardClients: Redis[];
let sentinelWriter: Redis;

const readyClient = async (port: number) => {
  const client = new Redis({ host: '127.0.0.1', port, ...failFastRedisOptions(1_000) });
  client.on('error', () => {});
  await new Promise((resolve) => client.once('ready', resolve));
  return client;
};

beforeAll(async () => {
  [replicaSet, sentinelSet, shardNodes] = await Promise.all([
    startReplicaSet(),
    startSentinelSet(),
    Promise.all([startRedis(), startRedis(), startRedis(), startRedis()]),
  ]);
  shardClients = await Promise.all(shardNodes.map((n) => readyClient(n.port)));
  sentinelWriter = new Redis({
    ...failFastRedisOptions(1_000),
    sentinels: sentinelSet.sentinelAddresses(),
    name: sentinelSet.masterName,
  });
  sentinelWriter.on('error', () => {});
  await new Promise((resolve) => sentinelWriter.once('ready', resolve));
});
afterAll(async () => {
  sentinelWriter?.disconnect();
  for (const c of shardClients ?? []) c.disconnect();
  await Promise.all([replicaSet?.stop(), sentinelSet?.stop(), ...(shardNodes ?? []).map((n) => n.stop())]);
});

let n = 0;

runCacheStoreConformance(
  'createRedisStore (master-replica, replica reads after WAIT)',
  async () => ({
    store: createRedisStore({
      connection: replicaSet.primary.url,
      replicas: [replicaSet.replica.url],
      readFrom: 'replica',
      durability: 'replicated',
      waitTimeoutMs: 1_000,
      namespace: `mr${n++}`,
      ...relaxed,
    }),
  }),
  { realTime: true, serializes: true },
);

runCacheStoreConformance(
  'createRedisStore (Sentinel-discovered primary)',
  async () => ({ store: createRedisStore({ client: sentinelWriter, namespace: `sn${n++}`, ...relaxed }) }),
  { realTime: true, serializes: true },
);

runCacheStoreConformance(
  'createRedisStore (Ketama shards)',
  async () => ({
    store: createRedisStore({
      shards: shardClients.slice(0, 3).map((connection) => ({ connection })),
      namespace: `kt${n++}`,
      ...relaxed,
    }),
  }),
  { realTime: true, serializes: true },
);

describe('createRedisStore over Sentinel', () => {
  it('discovers the primary through the sentinels and reads from the replica when asked', async () => {
    const store = createRedisStore<string>({
      sentinel: { sentinels: sentinelSet.sentinelAddresses(), name: sentinelSet.masterName },
      readFrom: 'replica',
      durability: 'replicated',
      waitTimeoutMs: 1_000,
      namespace: 'sentinel-owned',
      ...relaxed,
    });
    await store.set('k', createEntry('v', { now: Date.now(), ttlMs: 60_000 }));
    expect((await store.get('k'))?.value).toBe('v');
    expect(await sentinelSet.replica.command('GET', '14:sentinel-owned:k')).toMatch(
      /^dc2\|"json"\|[^\n]*\n"v"$/,
    );
    await store.close();
  });
});

describe('createRedisStore with durability "replicated"', () => {
  it('never reports a write as replicated while the replica is frozen (S4)', async () => {
    const events: RedisStoreEvent[] = [];
    const waitTimeoutMs = 100;
    const make = (failMode: 'open' | 'closed') =>
      createRedisStore<number>({
        connection: replicaSet.primary.url,
        durability: 'replicated',
        waitTimeoutMs,
        failMode,
        namespace: `s4-${failMode}`,
        softTimeoutMs: 500,
        hardTimeoutMs: 1_000,
        onEvent: (e) => events.push(e),
      });
    const closed = make('closed');
    const open = make('open');
    await closed.set('warm', createEntry(0, { now: Date.now(), ttlMs: 60_000 }));
    expect(closed.stats().replicationShortfalls).toBe(0);
    replicaSet.replica.freeze();
    const latencies: number[] = [];
    let typed = 0;
    const lag = startLoopLag();
    try {
      for (let i = 0; i < 10; i++) {
        const t0 = performance.now();
        const outcome = await closed.set(`k${i}`, createEntry(i, { now: Date.now(), ttlMs: 60_000 })).then(
          () => 'replicated',
          (e: unknown) => (isDcError(e, 'E_STORE_UNAVAILABLE') ? 'typed' : 'other'),
        );
        latencies.push(performance.now() - t0);
        if (outcome === 'typed') typed++;
        expect(outcome).toBe('typed');
        await open.set(`k${i}`, createEntry(i, { now: Date.now(), ttlMs: 60_000 }));
      }
    } finally {
      replicaSet.replica.resume();
    }
    const shortfalls = events.filter((e) => e.type === 'store:replication');
    expect(shortfalls).toHaveLength(20);
    expect(shortfalls.every((e) => e.type === 'store:replication' && e.replicas === 0)).toBe(true);
    expect(Math.max(...latencies)).toBeLessThanOrEqual(waitTimeoutMs + 50 + lag.stop());
    printCounters({
      scenario: 'S4-replica-frozen-wait',
      maxLatMs: r1(Math.max(...latencies)),
      p99LatMs: r1(Math.max(...latencies)),
      typedRejections: typed,
      reportedReplicated: 0,
    });
    await Promise.all([closed.close(), open.close()]);
  });
});

describe('createRedisStore over Ketama shards', () => {
  it('spreads keys over every node and remaps about 1/N of them when a node joins', async () => {
    const entry = createEntry(1, { now: Date.now(), ttlMs: 60_000 });
    const three = createRedisStore<number>({
      shards: shardClients.slice(0, 3).map((connection) => ({ connection })),
      namespace: 'remap',
      ...relaxed,
    });
    const keys = Array.from({ length: 3_000 }, (_, i) => `key-${i}`);
    await three.setMany(keys.map((k) => [k, entry] as const));
    const remapKeys = async (c: Redis) => (await c.keys('5:remap:*')).length;
    const perNode = await Promise.all(shardClients.slice(0, 3).map(remapKeys));
    for (const count of perNode) expect(count).toBeGreaterThan(700);
    const four = createRedisStore<number>({
      shards: shardClients.map((connection) => ({ connection })),
      namespace: 'remap',
      ...relaxed,
    });
    const found = (await four.getMany(keys)).filter((e) => e !== undefined).length;
    const moved = 1 - found / keys.length;
    // One new node of four should take about a quarter of the keys.
    expect(moved).toBeGreaterThan(0.15);
    expect(moved).toBeLessThan(0.35);
    await three.clear();
    expect(await Promise.all(shardClients.map(remapKeys))).toEqual([0, 0, 0, 0]);
    await Promise.all([three.close(), four.close()]);
  });
});
