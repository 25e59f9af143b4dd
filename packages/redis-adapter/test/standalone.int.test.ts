import { createEntry, isDcError } from '@dc/core';
import { type RedisNode, runCacheStoreConformance, startRedis } from '@dc/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore } from '../src/index';

let redis: RedisNode;
let raw: Redis;
beforeAll(async () => {
  redis = await startRedis();
  raw = new Redis(redis.port, '127.0.0.1');
});
afterAll(async () => {
  raw.disconnect();
  await redis.stop();
});

// Generous timeouts: the conformance cases check behaviour, not latency, on a busy CI box.
const relaxed = { softTimeoutMs: 2_000, hardTimeoutMs: 4_000, failMode: 'closed' as const };
let n = 0;

runCacheStoreConformance(
  'createRedisStore (owned connection)',
  async () => ({ store: createRedisStore({ connection: redis.url, namespace: `conf${n++}`, ...relaxed }) }),
  { realTime: true, serializes: true },
);

runCacheStoreConformance(
  'createRedisStore (client passed in)',
  async () => ({ store: createRedisStore({ client: raw, namespace: `confc${n++}`, ...relaxed }) }),
  { realTime: true, serializes: true },
);

runCacheStoreConformance(
  'createRedisStore (autoPipelining: reads coalesced into MGET)',
  async () => ({
    store: createRedisStore({
      connection: redis.url,
      namespace: `confp${n++}`,
      autoPipelining: true,
      ...relaxed,
    }),
  }),
  { realTime: true, serializes: true },
);

describe('createRedisStore', () => {
  it('sends the gets of one tick as one MGET with autoPipelining, each caller getting its own entry', async () => {
    const store = createRedisStore<number>({
      connection: redis.url,
      namespace: 'coalesce',
      autoPipelining: true,
    });
    await store.setMany(
      Array.from(
        { length: 50 },
        (_, i) => [`k${i}`, createEntry(i, { now: Date.now(), ttlMs: 60_000 })] as const,
      ),
    );
    const calls = async (command: string) =>
      Number((await redis.info('commandstats'))[`cmdstat_${command}`]?.match(/calls=(\d+)/)?.[1] ?? 0);
    const [getsBefore, mgetsBefore] = [await calls('get'), await calls('mget')];
    const keys = [...Array.from({ length: 50 }, (_, i) => `k${i}`), 'missing', 'k7'];
    const entries = await Promise.all(keys.map((k) => store.get(k)));
    expect(entries.map((e) => e?.value)).toEqual([...Array.from({ length: 50 }, (_, i) => i), undefined, 7]);
    expect((await calls('mget')) - mgetsBefore).toBe(1);
    expect((await calls('get')) - getsBefore).toBe(0);
    await store.close();
  });

  it('stores one envelope per key with PXAT when an entry is set', async () => {
    const store = createRedisStore({ client: raw, namespace: 'env' });
    const entry = createEntry(
      { a: 1 },
      { now: Date.now(), ttlMs: 60_000, graceMs: 5_000, deltaMs: 3, tags: ['t'] },
    );
    await store.set('k', entry);
    const stored = await raw.get('3:env:k');
    expect(stored).toBe(`dc2|"json"|${entry.expiresAt}|${entry.staleAt}|3|["t"]\n{"a":1}`);
    const pxat = Number(await raw.call('PEXPIRETIME', '3:env:k'));
    expect(pxat).toBe(Math.ceil(entry.expiresAt));
    await store.close();
  });

  it('leaves a client passed in open and closes one it created', async () => {
    const borrowed = createRedisStore({ client: raw, namespace: 'own' });
    await borrowed.close();
    expect(raw.status).toBe('ready');
    expect(await raw.ping()).toBe('PONG');
  });

  it('clears only its own namespace when namespaces share a prefix or contain glob characters', async () => {
    const entry = createEntry(1, { now: Date.now(), ttlMs: 60_000 });
    const star = createRedisStore({ client: raw, namespace: 'a*' });
    const ab = createRedisStore({ client: raw, namespace: 'ab' });
    const abc = createRedisStore({ client: raw, namespace: 'a' });
    await star.set('x', entry);
    await ab.set('x', entry);
    await abc.set('b:x', entry);
    await star.clear();
    expect(await star.get('x')).toBeUndefined();
    expect(await ab.get('x')).toBeDefined();
    expect(await abc.get('b:x')).toBeDefined();
    await ab.clear();
    expect(await abc.get('b:x')).toBeDefined();
    await Promise.all([star.close(), ab.close(), abc.close()]);
  });

  it('removes keys whose UTF-16 is not well-formed on clear', async () => {
    const store = createRedisStore({ client: raw, namespace: 'lone' });
    const entry = createEntry(1, { now: Date.now(), ttlMs: 60_000 });
    await store.set('\uD800', entry);
    await store.set('\uFFFD', createEntry(2, { now: Date.now(), ttlMs: 60_000 }));
    expect((await store.get('\uD800'))?.value).toBe(1);
    expect((await store.get('\uFFFD'))?.value).toBe(2);
    await store.clear();
    expect(await store.get('\uD800')).toBeUndefined();
    expect(await store.get('\uFFFD')).toBeUndefined();
    await store.close();
  });

  it.each([
    ['a BigInt', 10n],
    [
      'a value nested deeper than reads accept (513 levels)',
      Array.from({ length: 513 }).reduce((inner) => [inner], 1),
    ],
    ['a value over 1 MiB', 'x'.repeat(1024 * 1024)],
  ])('rejects %s with E_SERIALIZATION and writes nothing', async (_label, value) => {
    const store = createRedisStore({ client: raw, namespace: 'enc' });
    await store.set('k', createEntry('older', { now: Date.now(), ttlMs: 60_000 }));
    const error = await store
      .set('k', createEntry(value as unknown, { now: Date.now(), ttlMs: 1_000 }))
      .catch((e: unknown) => e);
    expect(isDcError(error, 'E_SERIALIZATION')).toBe(true);
    expect((await store.get('k'))?.value).toBe('older');
    await store.delete('k');
    await store.close();
  });
});
