/**
 * FAULTS D3 with the bus's tracking mode (`CLIENT TRACKING … REDIRECT … BCAST` to a RESP2
 * subscriber): `FLUSHALL`, a write by a client that never publishes, and a Redis restart without
 * persistence all stop the L1 serving the old value within 1 s.
 */
import { createEntry } from '@dc/core';
import { type RedisNode, startRedis } from '@dc/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attachInvalidationBus, createL1Store } from '../../l1/src/index';
import { createRedisBus, namespacedKey } from '../src/index';
import { printCounters, r1, sleep } from './chaos-helpers';

let redis: RedisNode;
let raw: Redis;
beforeAll(async () => {
  redis = await startRedis();
  raw = new Redis(redis.port, '127.0.0.1');
  raw.on('error', () => {});
});
afterAll(async () => {
  raw?.disconnect();
  await redis?.stop();
});

async function untilGone(
  l1: { getSync(key: string): unknown },
  key: string,
  limitMs: number,
): Promise<number> {
  const started = performance.now();
  while (l1.getSync(key) !== undefined && performance.now() - started < limitMs) await sleep(2);
  return performance.now() - started;
}

describe('createRedisBus with tracking', () => {
  it('evicts L1 entries on FLUSHALL, on a foreign write, and after a restart without persistence (D3)', async () => {
    const bus = createRedisBus({ connection: redis.url, channel: 'd3', tracking: { namespace: 'app' } });
    await bus.ready();
    const l1 = createL1Store<string>({ maxEntries: 100, defaultTtlMs: 600_000 });
    const link = attachInvalidationBus(l1, bus, { instanceId: 'node-1' });
    const fill = async (key: string) => {
      await raw.set(namespacedKey('app', key), 'x');
      // Let the invalidation of this very write pass before caching, then prove the entry stays.
      await sleep(50);
      l1.setSync(key, createEntry('cached', { now: Date.now(), ttlMs: 600_000 }));
      await sleep(50);
      expect(l1.getSync(key), `${key} cached before the change`).toBeDefined();
    };

    await fill('a');
    await raw.set(namespacedKey('app', 'a'), 'changed by a client that never publishes');
    const foreignMs = await untilGone(l1, 'a', 1_000);

    await fill('b');
    await raw.flushall();
    const flushMs = await untilGone(l1, 'b', 1_000);

    await fill('c');
    await redis.restart();
    const restartMs = await untilGone(l1, 'c', 3_000);

    // Tracking is redirected to the new subscriber connection after the restart.
    await sleep(200);
    await fill('d');
    await raw.set(namespacedKey('app', 'd'), 'again');
    const afterRestartMs = await untilGone(l1, 'd', 1_000);

    printCounters({
      scenario: 'D3-tracking',
      maxLatMs: r1(Math.max(foreignMs, flushMs, afterRestartMs)),
      errWindowMs: r1(restartMs),
      staleReads: [foreignMs, flushMs, afterRestartMs].filter((ms) => ms >= 1_000).length,
      foreignWriteMs: r1(foreignMs),
      flushallMs: r1(flushMs),
      restartMs: r1(restartMs),
      afterRestartMs: r1(afterRestartMs),
    });
    expect(foreignMs).toBeLessThan(1_000);
    expect(flushMs).toBeLessThan(1_000);
    expect(l1.getSync('c')).toBeUndefined();
    expect(afterRestartMs).toBeLessThan(1_000);
    await link.detach();
    await bus.close();
  });
});
