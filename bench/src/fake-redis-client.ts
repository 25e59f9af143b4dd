import { EventEmitter } from 'node:events';
import { createRedisStore } from '@dc/redis-adapter';
import type { Redis } from 'ioredis';

/** The cached value every redis-adapter bench reads: a small user record. */
export const BENCH_VALUE = Object.freeze({
  id: 1,
  name: 'Ada Lovelace',
  email: 'ada@example.com',
  roles: Object.freeze(['admin', 'user']),
  score: 42.5,
});

/**
 * A larger cached value, ~1 KB of JSON: the user record with twelve order lines. Past the size
 * where a parser's fixed costs hide its per-character ones.
 */
export const BENCH_VALUE_1KB = Object.freeze({
  ...BENCH_VALUE,
  items: Object.freeze(
    Array.from({ length: 12 }, (_, i) =>
      Object.freeze({ sku: `SKU-${i}`, qty: i % 7, price: 9.99 + i, note: 'standard shipping' }),
    ),
  ),
});

/**
 * A `createRedisStore` over a stand-in client whose `get`/`mget`/`set` resolve at once from a
 * `Map` (no network), to measure the store's own CPU per read. `data` holds the raw Redis keys
 * and payloads; `fake` is the client, for the raw side of a comparison.
 */
export function storeOverFakeClient() {
  const data = new Map<string, string>();
  class FakeClient extends EventEmitter {
    status = 'ready';
    get(k: string) {
      return Promise.resolve(data.get(k) ?? null);
    }
    mget(...args: unknown[]) {
      const ks = (Array.isArray(args[0]) ? args[0] : args) as string[];
      return Promise.resolve(ks.map((k) => data.get(k) ?? null));
    }
    set(k: string, v: string) {
      data.set(k, v);
      return Promise.resolve('OK');
    }
  }
  const fake = new FakeClient();
  const store = createRedisStore({
    client: fake as unknown as Redis,
    namespace: 'bench',
    softTimeoutMs: 500,
    hardTimeoutMs: 1_000,
  });
  return { data, fake, store };
}
