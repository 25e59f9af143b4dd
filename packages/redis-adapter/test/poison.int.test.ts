/**
 * FAULTS X4: values written straight into Redis with a raw client. Each is a miss, is deleted,
 * is counted as poisoned, and never reaches `Object.prototype`; the raw string is never returned.
 */
import { createEntry } from '@dc/core';
import { type RedisNode, startRedis } from '@dc/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore, namespacedKey, type RedisStoreEvent } from '../src/index';

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

const NS = 'x4';
const future = Date.now() + 3_600_000;
const envelope = (fields: string) =>
  `{"v":1,"codec":"json","expiresAt":${future},"staleAt":${future}${fields}}`;

const CORPUS: Array<[string, string | Buffer]> = [
  ['proto pollution', '{"__proto__":{"polluted":1}}'],
  ['constructor.prototype pollution', '{"constructor":{"prototype":{"x":1}}}'],
  ['proto pollution inside a valid envelope', envelope(',"value":{"__proto__":{"polluted":1}}')],
  [
    'constructor pollution inside a valid envelope',
    envelope(',"value":{"constructor":{"prototype":{"x":1}}}'),
  ],
  ['100k-deep array', `${'['.repeat(100_000)}${']'.repeat(100_000)}`],
  ['100k-deep array inside an envelope', envelope(`,"value":${'['.repeat(100_000)}${']'.repeat(100_000)}`)],
  ['truncated JSON', envelope(',"value":{"a":1}').slice(0, -5)],
  [
    'invalid UTF-8',
    Buffer.concat([Buffer.from(envelope(',"value":"')), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}')]),
  ],
  ['wrong envelope version', envelope(',"value":1').replace('"v":1', '"v":2')],
  ['wrong codec', envelope(',"value":1').replace('"codec":"json"', '"codec":"msgpack"')],
  ['missing value', envelope('')],
  [
    'staleAt after expiresAt',
    `{"v":1,"codec":"json","expiresAt":${future},"staleAt":${future + 1},"value":1}`,
  ],
  ['non-numeric expiresAt', `{"v":1,"codec":"json","expiresAt":"soon","staleAt":1,"value":1}`],
  ['tags not strings', envelope(',"tags":[1],"value":1')],
  ['proto pollution after a v2 header', `dc2|"json"|${future}|${future}||\n{"__proto__":{"polluted":1}}`],
  [
    '100k-deep array after a v2 header',
    `dc2|"json"|${future}|${future}||\n${'['.repeat(100_000)}${']'.repeat(100_000)}`,
  ],
  ['v2 header without a value line', `dc2|"json"|${future}|${future}||`],
  ['v2 header with a non-numeric expiry', `dc2|"json"|soon|${future}||\n1`],
  ['v2 header of another codec', `dc2|"msgpack"|${future}|${future}||\n1`],
  ['plain string', 'hello world'],
  ['JSON string', '"just a string"'],
  ['JSON array', '[1,2,3]'],
  ['JSON null', 'null'],
  ['empty', ''],
];

describe('createRedisStore reading poisoned payloads', () => {
  it('treats every poisoned payload as a miss, deletes it, counts it and pollutes nothing', async () => {
    const events: RedisStoreEvent[] = [];
    const store = createRedisStore<unknown>({
      client: raw,
      namespace: NS,
      failMode: 'closed',
      softTimeoutMs: 5_000,
      hardTimeoutMs: 10_000,
      onEvent: (e) => events.push(e),
    });
    for (const [name, payload] of CORPUS) {
      const key = namespacedKey(NS, name);
      await raw.set(key, payload);
      await expect(store.get(name), name).resolves.toBeUndefined();
      // The delete runs in the background; it is done when the next command returns.
      await raw.ping();
      expect(await raw.exists(key), `${name} deleted`).toBe(0);
    }
    expect(store.stats().poisoned).toBe(CORPUS.length);
    expect(events.filter((e) => e.type === 'store:poisoned')).toHaveLength(CORPUS.length);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).x).toBeUndefined();
    expect(Object.getOwnPropertyNames(Object.prototype)).not.toContain('polluted');
    await store.close();
  });

  it('returns misses only for the poisoned keys of a getMany', async () => {
    const store = createRedisStore<string>({
      client: raw,
      namespace: NS,
      softTimeoutMs: 5_000,
      hardTimeoutMs: 10_000,
    });
    await store.set('good', createEntry('fine', { now: Date.now(), ttlMs: 60_000 }));
    await raw.set(namespacedKey(NS, 'bad'), '{"__proto__":{"polluted":1}}');
    const [good, bad] = await store.getMany(['good', 'bad']);
    expect(good?.value).toBe('fine');
    expect(bad).toBeUndefined();
    expect(store.stats().poisoned).toBe(1);
    await store.close();
  });

  it('rejects a 50 MB payload by size before parsing it', async () => {
    const store = createRedisStore<string>({
      client: raw,
      namespace: NS,
      softTimeoutMs: 10_000,
      hardTimeoutMs: 20_000,
    });
    const key = namespacedKey(NS, 'huge');
    await raw.set(key, envelope(`,"value":"${'x'.repeat(50 * 1024 * 1024)}"`));
    await expect(store.get('huge')).resolves.toBeUndefined();
    expect(store.stats().poisoned).toBe(1);
    await raw.ping();
    expect(await raw.exists(key)).toBe(0);
    await store.close();
  });

  it('answers a miss for a key of another type without deleting it', async () => {
    const store = createRedisStore<string>({
      client: raw,
      namespace: NS,
      softTimeoutMs: 5_000,
      hardTimeoutMs: 10_000,
    });
    const key = namespacedKey(NS, 'a-hash');
    await raw.hset(key, 'f', 'v');
    await expect(store.get('a-hash')).resolves.toBeUndefined();
    expect(store.stats().errors).toBe(1);
    await store.close();
  });
});
