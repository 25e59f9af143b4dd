import { type CacheEntry, type CacheStore, type Clock, defineStore, systemClock } from '@dc/core';

/**
 * The smallest correct CacheStore, used to validate the conformance suite itself: a `Map`
 * (so `__proto__` is an ordinary key), passive expiry against the injected clock, and an
 * optional JSON copy on the way in and out to behave like a serializing remote store.
 */
export function createMemoryStore(options: { clock?: Clock; serialize?: boolean } = {}): CacheStore {
  const { clock = systemClock, serialize = false } = options;
  const entries = new Map<string, CacheEntry<unknown> | string>();
  const read = (key: string): CacheEntry<unknown> | undefined => {
    const stored = entries.get(key);
    if (stored === undefined) return undefined;
    const entry = typeof stored === 'string' ? (JSON.parse(stored) as CacheEntry<unknown>) : stored;
    if (clock.now() >= entry.expiresAt) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  };
  return defineStore({
    name: 'memory',
    async get(key) {
      return read(key);
    },
    async set(key, entry) {
      entries.set(key, serialize ? JSON.stringify(entry) : entry);
    },
    async delete(key) {
      const existed = read(key) !== undefined;
      entries.delete(key);
      return existed;
    },
    async clear() {
      entries.clear();
    },
  });
}
