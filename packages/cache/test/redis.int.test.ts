/**
 * The facade over a real redis-server (started by @dc/testkit on a free port): two instances
 * sharing the Redis L2 (`createRedisStore`) and the Redis pub/sub bus (`createRedisBus`).
 */
import { isDcError } from '@dc/core';
import { createRedisBus, createRedisLock, createRedisStore } from '@dc/redis-adapter';
import { type RedisNode, startRedis } from '@dc/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cache } from '../src';
import { createCache } from '../src';

let redis: RedisNode;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One "process": its own Redis store, bus and lock connections, as a separate instance would have. */
async function instance<V>(namespace: string, lockClient?: Redis) {
  const l2 = createRedisStore<V>({ connection: redis.url, namespace });
  const bus = createRedisBus({ connection: redis.url, channel: `${namespace}:inv` });
  await bus.ready();
  const lock =
    lockClient === undefined
      ? undefined
      : createRedisLock({ client: lockClient, namespace: `${namespace}-lock` });
  const cache = createCache<V>({ l2, bus, ...(lock ? { lock } : {}), l2Timeout: '1s' });
  return {
    cache,
    close: async () => {
      await cache.close();
      await Promise.all([l2.close(), bus.close(), lock?.close()]);
    },
  };
}

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await check()) return Date.now() - started;
    await sleep(5);
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

describe('createCache over Redis', () => {
  it('shares values through the Redis L2 and invalidates the other instance’s L1 over pub/sub', async () => {
    const a = await instance<{ v: number }>('int-coherence');
    const b = await instance<{ v: number }>('int-coherence');
    await a.cache.set('k', { v: 1 });
    expect(await b.cache.getOrSet('k', async () => ({ v: -1 }))).toEqual({ v: 1 }); // L2 hit
    // a's invalidation of 'k' may still be on its way and refuse b's first L1 fill: read again.
    await until(async () => {
      await b.cache.get('k');
      return b.cache.getSync('k')?.v === 1;
    }, 1_000);
    await a.cache.set('k', { v: 2 });
    const staleMs = await until(async () => (await b.cache.get('k'))?.v === 2, 1_000);
    await a.cache.delete('k');
    await until(async () => (await b.cache.get('k')) === undefined, 1_000);
    expect(b.cache.stats().l2Hits).toBeGreaterThan(0);
    console.log(JSON.stringify({ test: 'coherence', staleMs }));
    await Promise.all([a.close(), b.close()]);
  });

  it('loads a cold key once across two instances with the Redis lock', async () => {
    const lockClient = new Redis(redis.port, '127.0.0.1');
    lockClient.on('error', () => {});
    const a = await instance<string>('int-lock', lockClient);
    const b = await instance<string>('int-lock', lockClient);
    let calls = 0;
    const loader = async () => {
      calls++;
      await sleep(300);
      return 'built';
    };
    const all = await Promise.all([
      ...Array.from({ length: 100 }, () => a.cache.getOrSet('report', loader)),
      ...Array.from({ length: 100 }, () => b.cache.getOrSet('report', loader)),
    ]);
    expect(all.every((v) => v === 'built')).toBe(true);
    expect(calls).toBe(1);
    await Promise.all([a.close(), b.close()]);
    await lockClient.quit();
  });

  it('rejects an unencodable value with E_SERIALIZATION before any I/O and keeps the stored value', async () => {
    const a = await instance<unknown>('int-bad');
    await a.cache.set('k', { ok: true });
    const error = await a.cache.set('k', { n: 10n }).catch((e) => e);
    expect(isDcError(error, 'E_SERIALIZATION')).toBe(true);
    expect(await a.cache.get('k')).toEqual({ ok: true });
    await a.close();
  });

  it('refuses values over the 1 MiB default and caches nothing of them (FAULTS X5)', async () => {
    const a = await instance<unknown>('int-big');
    const raw = new Redis(redis.port, '127.0.0.1');
    const big = { blob: 'x'.repeat(1024 * 1024) };
    await a.cache.set('k', { ok: true });
    const error = await a.cache.set('k', big).catch((e) => e);
    expect(isDcError(error, 'E_SERIALIZATION')).toBe(true);
    expect((error as Error).message).toContain('over maxBytes');
    expect(await a.cache.get('k')).toEqual({ ok: true });
    // A loaded value that is too big still reaches the caller, once per call: no tier keeps it.
    const errors: unknown[] = [];
    a.cache.on('cache:error', ({ error: e }) => errors.push(e));
    let loads = 0;
    const load = async () => {
      loads++;
      return big;
    };
    expect(await a.cache.getOrSet('cold', load)).toBe(big);
    expect(await a.cache.getOrSet('cold', load)).toBe(big);
    expect(loads).toBe(2);
    expect(errors).toHaveLength(2);
    expect(errors.every((e) => isDcError(e, 'E_SERIALIZATION'))).toBe(true);
    expect(await raw.keys('*int-big*cold*')).toEqual([]);
    await raw.quit();
    await a.close();
  });

  it('keeps answering from L1 and the loader while Redis is down, with 0 errors surfaced (fail-open)', async () => {
    const node = await startRedis();
    const l2 = createRedisStore<string>({ connection: node.url, namespace: 'int-down' });
    const cache: Cache<string> = createCache<string>({ l2, l2Timeout: '250ms' });
    await cache.set('warm', 'w');
    await node.kill();
    let surfaced = 0;
    let maxMs = 0;
    for (let i = 0; i < 20; i++) {
      const started = Date.now();
      await Promise.all([
        cache.getOrSet('warm', async () => 'reloaded'),
        cache.getOrSet(`cold:${i}`, async () => 'loaded'),
      ]).catch(() => {
        surfaced++;
      });
      maxMs = Math.max(maxMs, Date.now() - started);
    }
    expect(surfaced).toBe(0);
    expect(maxMs).toBeLessThanOrEqual(2 * 250 + 100);
    // The Redis store absorbs the outage itself (a miss within its soft timeout), so the facade
    // sees misses rather than errors here; the facade's own fail-open is tested with a chaos L2.
    console.log(JSON.stringify({ test: 'fail-open', errorsSurfaced: surfaced, maxLatMs: maxMs }));
    await cache.close();
    await l2.close();
    await node.stop();
  });
});
