import type { CacheEntry, CacheStore, Clock } from '@dc/core';
import { defineStore } from '@dc/core';

/** A tiny in-memory `CacheStore` for tests, with passive expiry on the injected clock. */
export interface TestStore<V> extends CacheStore<V> {
  /** The raw entries, expired ones included, for assertions. */
  readonly entries: Map<string, CacheEntry<V>>;
}

/** Creates a {@link TestStore} built with `defineStore` from `@dc/core`. */
export function createTestStore<V>(clock: Clock, name = 'test-memory'): TestStore<V> {
  const entries = new Map<string, CacheEntry<V>>();
  const store = defineStore<V>({
    name,
    async get(key) {
      const entry = entries.get(key);
      if (entry === undefined) return undefined;
      if (clock.now() >= entry.expiresAt) {
        entries.delete(key);
        return undefined;
      }
      return entry;
    },
    async set(key, entry) {
      entries.set(key, entry);
    },
    async delete(key) {
      return entries.delete(key);
    },
    async clear() {
      entries.clear();
    },
  });
  return Object.assign(store, { entries });
}
