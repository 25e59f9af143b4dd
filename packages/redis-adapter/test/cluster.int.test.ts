/**
 * Redis Cluster: the conformance suite, FAULTS C3 (1,000 keys over all slots through the batch
 * calls: 0 CROSSSLOT), `clear()` on every primary, and a primary SIGKILLed under load
 * (fail-open: 0 errors reach callers; writes to its slots resume within 5 s).
 */
import { createEntry } from '@dc/core';
import { keySlot } from '@dc/hashing';
import { type RedisClusterHandle, runCacheStoreConformance, startCluster, waitForRole } from '@dc/testkit';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLeaseContract } from '../../stampede/test/lease-contract';
import { runDistributedLockContract } from '../../stampede/test/lock-contract';
import {
  createRedisLeaseStore,
  createRedisLock,
  createRedisStore,
  failFastClusterOptions,
  namespacedKey,
  type RedisStoreEvent,
} from '../src/index';
import { maxOf, printCounters, r1, sleep, startLoopLag, trackUnhandled } from './chaos-helpers';

let cluster: RedisClusterHandle;
let client: Cluster;
beforeAll(async () => {
  cluster = await startCluster();
  client = new Cluster(cluster.startupNodes(), failFastClusterOptions(1_000));
  client.on('error', () => {});
  await new Promise((resolve) => client.once('ready', resolve));
});
afterAll(async () => {
  client?.disconnect();
  await cluster?.stop();
});

const relaxed = { softTimeoutMs: 2_000, hardTimeoutMs: 4_000, failMode: 'closed' as const };
let n = 0;

runCacheStoreConformance(
  'createRedisStore (cluster client passed in)',
  async () => ({ store: createRedisStore({ client, namespace: `cl${n++}`, ...relaxed }) }),
  { realTime: true, serializes: true },
);

runDistributedLockContract('createRedisLock (cluster)', () => ({
  lock: createRedisLock({ client }),
  advance: sleep,
}));

runLeaseContract('createRedisLeaseStore (cluster)', () => ({
  leases: createRedisLeaseStore<string>({ client }),
  now: () => Date.now(),
  advance: sleep,
}));

/** Keys over all slots, including ones `cluster-key-slot` misroutes (`foo{}{bar}`). */
function spreadKeys(count: number): string[] {
  const keys = Array.from({ length: count - 20 }, (_, i) => `user:${i}`);
  for (let i = 0; i < 10; i++) keys.push(`k${i}{}{tag${i}}`, `{t${i % 3}}same-slot-${i}`);
  return keys;
}

describe('createRedisStore over a cluster', () => {
  it('runs getMany, setMany and deleteMany over 1,000 keys on every slot owner without CROSSSLOT (C3)', async () => {
    const events: RedisStoreEvent[] = [];
    const store = createRedisStore<number>({
      cluster: { nodes: cluster.startupNodes() },
      namespace: 'c3',
      onEvent: (e) => events.push(e),
      ...relaxed,
    });
    const keys = spreadKeys(1_000);
    const slots = new Set(keys.map((k) => keySlot(namespacedKey('c3', k))));
    expect(slots.size).toBeGreaterThan(900);
    const now = Date.now();
    await store.setMany(keys.map((k, i) => [k, createEntry(i, { now, ttlMs: 60_000 })] as const));
    const values = (await store.getMany(keys)).map((e) => e?.value);
    expect(values).toEqual(keys.map((_, i) => i));
    // The misrouted-by-ioredis keys really live where Redis says.
    for (const k of keys.filter((key) => key.includes('{}{'))) {
      expect((await store.get(k))?.value).toBe(keys.indexOf(k));
    }
    const removed = await store.deleteMany(keys.slice(0, 500));
    expect(removed).toBe(500);
    expect((await store.getMany(keys.slice(0, 500))).every((e) => e === undefined)).toBe(true);
    const errors = events.filter((e) => e.type === 'store:error');
    expect(errors).toEqual([]);
    printCounters({
      scenario: 'C3-batch-1000-keys',
      acked: keys.length,
      errorsSurfaced: errors.length,
      slots: slots.size,
      crossSlotErrors: errors.filter((e) =>
        String((e as { error?: Error }).error?.message).includes('CROSSSLOT'),
      ).length,
    });
    await store.close();
  });

  it('sends foo{}{bar} keys to the node of their exact slot without a MOVED redirect', async () => {
    const store = createRedisStore<number>({ client, namespace: 'moved', ...relaxed });
    const keys = Array.from({ length: 30 }, (_, i) => `k${i}{}{tag${i}}`);
    const movedCount = async () => {
      let total = 0;
      for (const p of await cluster.primaries()) {
        total += Number((await p.info('errorstats')).errorstat_MOVED?.match(/count=(\d+)/)?.[1] ?? 0);
      }
      return total;
    };
    // Warm the node connections so the direct route is available.
    await store.getMany(keys);
    const before = await movedCount();
    for (const [i, k] of keys.entries()) {
      await store.set(k, createEntry(i, { now: Date.now(), ttlMs: 60_000 }));
      expect((await store.get(k))?.value).toBe(i);
      await expect(store.delete(k)).resolves.toBe(true);
    }
    const ours = (await movedCount()) - before;
    // Control: the counter does see redirects (asking every primary for every key makes all
    // but one owner answer MOVED).
    for (const p of await cluster.primaries())
      await p.pipeline(keys.map((k) => ['GET', namespacedKey('moved', k)]));
    const theirs = (await movedCount()) - before - ours;
    expect(ours).toBe(0);
    expect(theirs).toBeGreaterThan(0);
    await store.close();
  });

  it('empties its namespace on every primary and leaves other namespaces when cleared', async () => {
    const mine = createRedisStore<number>({ client, namespace: 'mine', ...relaxed });
    const other = createRedisStore<number>({ client, namespace: 'mine2', ...relaxed });
    const keys = spreadKeys(300);
    const entry = createEntry(1, { now: Date.now(), ttlMs: 60_000 });
    await mine.setMany(keys.map((k) => [k, entry] as const));
    await other.setMany(keys.map((k) => [k, entry] as const));
    const primaries = await cluster.primaries();
    const count = async (ns: string) => {
      let total = 0;
      for (const p of primaries)
        total += (await p.command('KEYS', `${ns.length}:${ns}:*`)).split('\n').filter(Boolean).length;
      return total;
    };
    expect(await count('mine')).toBe(300);
    await mine.clear();
    expect(await count('mine')).toBe(0);
    expect(await count('mine2')).toBe(300);
    await Promise.all([mine.close(), other.close()]);
  });

  it('surfaces no error and resumes writes within 5 s when a primary is killed under load (fail-open)', async () => {
    const failures: number[] = [];
    const store = createRedisStore<number>({
      cluster: { nodes: cluster.startupNodes() },
      namespace: 'kill',
      softTimeoutMs: 50,
      hardTimeoutMs: 250,
      onEvent: (e) => {
        if (e.type === 'store:error' || e.type === 'store:timeout') failures.push(performance.now());
      },
    });
    const unhandled = trackUnhandled();
    const lag = startLoopLag();
    const primaries = await cluster.primaries();
    const victim = primaries[0];
    if (victim === undefined) throw new Error('no primary');
    const victimSlots = (await cluster.slotRanges()).filter((r) => r.primary.port === victim.port);
    const firstSlot = victimSlots[0]?.start ?? 0;
    // A key whose slot the victim serves, to time when writes to its slots work again.
    let probeKey = '';
    for (let i = 0; probeKey === '' && i < 100_000; i++) {
      const candidate = `probe-${i}`;
      const slot = keySlot(namespacedKey('kill', candidate));
      if (victimSlots.some((r) => slot >= r.start && slot <= r.end)) probeKey = candidate;
    }
    expect(probeKey).not.toBe('');
    let running = true;
    let acked = 0;
    let rejected = 0;
    const latencies: number[] = [];
    const workers = Array.from({ length: 10 }, async (_, w) => {
      for (let i = 0; running && i < 1_000_000; i++) {
        const key = `w${w}-${i % 500}`;
        const t0 = performance.now();
        try {
          if (i % 5 < 3) await store.get(key);
          else await store.set(key, createEntry(i, { now: Date.now(), ttlMs: 60_000 }));
          acked++;
        } catch {
          rejected++;
        }
        latencies.push(performance.now() - t0);
        if (i % 8 === 0) await new Promise((r) => setImmediate(r));
      }
    });
    await sleep(500);
    const killedAt = performance.now();
    await victim.kill();
    let resumedAt = 0;
    for (let i = 0; i < 200 && resumedAt === 0; i++) {
      await store.set(probeKey, createEntry(i, { now: Date.now(), ttlMs: 60_000 }));
      const back = await store.get(probeKey);
      if (back?.value === i) resumedAt = performance.now();
      else await sleep(50);
    }
    running = false;
    await Promise.all(workers);
    unhandled.stop();
    const loopLagMaxMs = lag.stop();
    const resumeMs = resumedAt === 0 ? -1 : resumedAt - killedAt;
    printCounters({
      scenario: 'C1-lite-cluster-primary-kill-fail-open',
      acked,
      errorsSurfaced: rejected,
      unhandled: unhandled.count(),
      maxLatMs: r1(maxOf(latencies)),
      errWindowMs: r1(failures.length === 0 ? 0 : (failures.at(-1) as number) - killedAt),
      loopLagMaxMs,
      writesResumedAfterMs: r1(resumeMs),
      firstSlot,
    });
    expect(rejected).toBe(0);
    expect(unhandled.count()).toBe(0);
    expect(maxOf(latencies)).toBeLessThanOrEqual(250 + 20 + loopLagMaxMs);
    expect(resumeMs).toBeGreaterThan(0);
    expect(resumeMs).toBeLessThanOrEqual(5_000);
    await store.close();
    const replica = cluster.nodes.find((node) => node !== victim && node.state === 'running');
    if (replica) await waitForRole(replica, 'master').catch(() => {});
  });
});

describe('createRedisStore over a cluster with durability "replicated"', () => {
  it('confirms writes on the replicas, and reads never queue behind a slow WAIT', async () => {
    const ns = 'cluster-durable';
    const events: RedisStoreEvent[] = [];
    const store = createRedisStore<number>({
      cluster: { nodes: cluster.startupNodes() },
      namespace: ns,
      durability: 'replicated',
      waitTimeoutMs: 300,
      softTimeoutMs: 100,
      hardTimeoutMs: 1_500,
      onEvent: (e) => events.push(e),
    });
    const entry = (value: number) => createEntry(value, { now: Date.now(), ttlMs: 60_000 });
    // A range whose primary still has a running replica (an earlier test killed a primary).
    const range = (await cluster.slotRanges()).find((r) =>
      r.replicas.some((node) => node.state === 'running'),
    );
    if (range === undefined) throw new Error('no slot range with a running replica');
    const inRange = (k: string) => {
      const slot = keySlot(namespacedKey(ns, k));
      return range.start <= slot && slot <= range.end;
    };
    const keys = Array.from({ length: 200 }, (_, i) => `item:${i}`)
      .filter(inRange)
      .slice(0, 20);
    expect(keys.length).toBe(20);
    const replica = range.replicas.find(
      (node) => node.state === 'running',
    ) as (typeof range.replicas)[number];

    // Healthy: every write is on the replica once it is acknowledged.
    await store.setMany(keys.map((k, i) => [k, entry(i)]));
    await store.set(keys[0] as string, entry(100));
    expect(events.filter((e) => e.type === 'store:replication')).toEqual([]);
    // KEYS is not redirected to the primary, unlike a key read on a replica.
    const onReplica = await replica.call(['KEYS', `${ns.length}:${ns}:*`]);
    expect(onReplica).toEqual(expect.arrayContaining(keys.map((k) => namespacedKey(ns, k))));

    // A frozen replica: each durable write waits out its WAIT (300 ms); reads of the same
    // primary's keys, sent meanwhile, must not wait behind it (soft timeout 100 ms).
    replica.freeze();
    try {
      const writes = keys.slice(0, 5).map((k, i) => store.set(k, entry(200 + i)));
      await sleep(20);
      const readTimes: number[] = [];
      for (const k of keys.slice(5)) {
        const t0 = performance.now();
        expect((await store.get(k))?.value).toBe(keys.indexOf(k));
        readTimes.push(performance.now() - t0);
      }
      await Promise.all(writes);
      const shortfalls = events.filter((e) => e.type === 'store:replication').length;
      printCounters({
        scenario: 'cluster-durable-frozen-replica',
        acked: 5,
        maxLatMs: r1(maxOf(readTimes)),
        replicationShortfalls: shortfalls,
      });
      expect(shortfalls).toBe(5);
      expect(maxOf(readTimes)).toBeLessThan(100);
      expect(events.filter((e) => e.type === 'store:timeout' && e.op === 'get')).toEqual([]);
    } finally {
      replica.resume();
    }
    await store.close();
  });
});
