/**
 * The `@dc/l1` InvalidationBus contract over Redis pub/sub, and FAULTS D2: the bus subscriber is
 * killed (`CLIENT KILL TYPE pubsub`) while another instance writes; once it re-subscribes, the L1
 * is flushed, so no value older than the last write is served past reconnect + 1 s.
 */
import { createEntry } from '@dc/core';
import { type RedisNode, startRedis } from '@dc/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attachInvalidationBus, createL1Store, type InvalidationBus } from '../../l1/src/index';
import { runInvalidationBusContract } from '../../l1/test/bus-contract';
import { createRedisBus, createRedisStore } from '../src/index';
import { printCounters, r1, sleep } from './chaos-helpers';

let redis: RedisNode;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

runInvalidationBusContract('createRedisBus', async () => {
  const server = await startRedis();
  let n = 0;
  return {
    channel: () => {
      const channel = `dc:inv:test:${n++}`;
      return {
        open: async () => {
          const bus = createRedisBus({ connection: server.url, channel });
          await bus.ready();
          return bus satisfies InvalidationBus;
        },
        interrupt: async () => {
          await server.command('CLIENT', 'KILL', 'TYPE', 'pubsub');
        },
      };
    },
    teardown: () => server.stop(),
  };
});

describe('createRedisBus', () => {
  it('flushes the L1 after the subscriber is killed, so nothing older than the last write is served (D2)', async () => {
    const shared = new Redis(redis.port, '127.0.0.1');
    shared.on('error', () => {});
    const l2 = createRedisStore<number>({
      client: shared,
      namespace: 'd2',
      failMode: 'closed',
      hardTimeoutMs: 2_000,
      softTimeoutMs: 1_000,
    });
    const busA = createRedisBus({ connection: redis.url, channel: 'd2' });
    const busB = createRedisBus({ connection: redis.url, channel: 'd2' });
    await Promise.all([busA.ready(), busB.ready()]);
    // A long L1 TTL, so only the gap flush (not expiry) can remove the stale values.
    const l1A = createL1Store<number>({ maxEntries: 1_000, defaultTtlMs: 600_000 });
    const l1B = createL1Store<number>({ maxEntries: 1_000, defaultTtlMs: 600_000 });
    const linkA = attachInvalidationBus(l1A, busA, { instanceId: 'A' });
    const linkB = attachInvalidationBus(l1B, busB, { instanceId: 'B' });
    const keys = Array.from({ length: 10 }, (_, i) => `k${i}`);
    const latest = new Map<string, number>();
    const write = async (key: string, version: number) => {
      const entry = createEntry(version, { now: Date.now(), ttlMs: 60_000 });
      await l2.set(key, entry);
      await l1A.set(key, entry);
      latest.set(key, version);
    };
    // B reads through: L1, else L2 (then fills its L1).
    const readB = async (key: string) => {
      const hit = await l1B.get(key);
      if (hit !== undefined) return hit.value;
      const entry = await l2.get(key);
      if (entry !== undefined) await l1B.set(key, entry);
      return entry?.value;
    };
    for (const key of keys) await write(key, 0);
    for (const key of keys) await readB(key);
    let version = 1;
    // Kill B's subscriber, then write while it is gone: those invalidations are lost.
    await redis.command('CLIENT', 'KILL', 'TYPE', 'pubsub');
    for (let i = 0; i < 100; i++) await write(keys[i % keys.length] as string, version++);
    const deadline = Date.now() + 5_000;
    while (busB.gaps === 0 && Date.now() < deadline) await sleep(10);
    const reconnectedAt = Date.now();
    await sleep(1_000);
    let staleReads = 0;
    for (const key of keys) {
      const value = await readB(key);
      if (value !== latest.get(key)) staleReads++;
    }
    printCounters({
      scenario: 'D2-pubsub-killed',
      acked: 100,
      errWindowMs: r1(reconnectedAt - (deadline - 5_000)),
      staleReads,
      gaps: busB.gaps,
      invalidationsReceivedByB: linkB.stats().received,
    });
    // Some of the 100 invalidations were lost in the gap: without the flush, B would be stale.
    expect(linkB.stats().received).toBeLessThan(100);
    expect(busB.gaps).toBeGreaterThanOrEqual(1);
    expect(staleReads).toBe(0);
    expect(linkB.stats().resyncs).toBeGreaterThanOrEqual(1);
    await Promise.all([linkA.detach(), linkB.detach()]);
    await Promise.all([busA.close(), busB.close(), l2.close()]);
    shared.disconnect();
  });
});
