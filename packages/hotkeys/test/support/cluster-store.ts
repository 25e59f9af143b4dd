import type { CacheEntry, CacheStore } from '@dc/core';
import { defineStore } from '@dc/core';
import type { Cluster } from 'ioredis';

interface Envelope {
  readonly v: unknown;
  readonly e: number;
  readonly s: number;
}

/**
 * Test-only `CacheStore` over an `ioredis.Cluster`: a JSON envelope per key with `SET ... PX`.
 * Just enough for the replication test; the real adapter lives in `@dc/redis-adapter`.
 */
export function createTestClusterStore<V>(client: Cluster, now: () => number = Date.now): CacheStore<V> {
  return defineStore<V>({
    name: 'test-cluster',
    async get(key) {
      const raw = await client.get(key);
      if (raw === null) return undefined;
      const { v, e, s } = JSON.parse(raw) as Envelope;
      if (now() >= e) return undefined;
      return { value: v as V, expiresAt: e, staleAt: s } satisfies CacheEntry<V>;
    },
    async set(key, entry) {
      const ttl = Math.max(1, Math.ceil(entry.expiresAt - now()));
      await client.set(
        key,
        JSON.stringify({ v: entry.value, e: entry.expiresAt, s: entry.staleAt }),
        'PX',
        ttl,
      );
    },
    async delete(key) {
      return (await client.del(key)) > 0;
    },
    async clear() {
      throw new Error('not needed by the test');
    },
  });
}
