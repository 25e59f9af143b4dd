import type { CacheEntry, CacheStore, Clock, SyncCacheStore } from '@dc/core';
import { defineStore } from '@dc/core';

/** A promise resolved by a clock timer: "the loader takes `ms`" without real sleeping. */
export function delay(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimer(resolve, ms));
}

/** Test-only in-memory CacheStore over a Map, honouring `expiresAt` against `clock`. */
export function createTestStore<V>(
  clock: Clock,
): CacheStore<V> & { readonly map: Map<string, CacheEntry<V>> } {
  const map = new Map<string, CacheEntry<V>>();
  const store = defineStore<V>({
    name: 'test-memory',
    async get(key) {
      const entry = map.get(key);
      if (entry === undefined) return undefined;
      if (clock.now() >= entry.expiresAt) {
        map.delete(key);
        return undefined;
      }
      return entry;
    },
    async set(key, entry) {
      map.set(key, entry);
    },
    async delete(key) {
      return map.delete(key);
    },
    async clear() {
      map.clear();
    },
  });
  return Object.assign(store, { map });
}

/** Adds the SyncCacheStore face to a test store. */
export function withSync<V>(
  store: CacheStore<V> & { readonly map: Map<string, CacheEntry<V>> },
  clock: Clock,
): CacheStore<V> & SyncCacheStore<V> {
  return Object.assign(store, {
    getSync(key: string) {
      const entry = store.map.get(key);
      return entry !== undefined && clock.now() < entry.expiresAt ? entry : undefined;
    },
    setSync(key: string, entry: CacheEntry<V>) {
      store.map.set(key, entry);
    },
    deleteSync(key: string) {
      return store.map.delete(key);
    },
  });
}

/** Counts `unhandledRejection` events while `run` executes (plus a macrotask to let them fire). */
export async function countUnhandledRejections(run: () => Promise<void>): Promise<number> {
  let count = 0;
  const onUnhandled = () => {
    count++;
  };
  process.on('unhandledRejection', onUnhandled);
  try {
    await run();
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setTimeout(resolve, 0));
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
  return count;
}
