import type { CacheEntry, CacheStore } from '@dc/core';
import { defineStore } from '@dc/core';

/** A map-backed store (honours `expiresAt` against `now()`), with per-key operation counts. */
export interface MapStore<V> extends CacheStore<V> {
  readonly data: Map<string, CacheEntry<V>>;
  readonly gets: Map<string, number>;
  readonly sets: Map<string, number>;
}

export function createMapStore<V>(name: string, now: () => number): MapStore<V> {
  const data = new Map<string, CacheEntry<V>>();
  const gets = new Map<string, number>();
  const sets = new Map<string, number>();
  const bump = (m: Map<string, number>, key: string) => m.set(key, (m.get(key) ?? 0) + 1);
  const store = defineStore<V>({
    name,
    async get(key) {
      bump(gets, key);
      const entry = data.get(key);
      if (entry === undefined) return undefined;
      if (now() >= entry.expiresAt) {
        data.delete(key);
        return undefined;
      }
      return entry;
    },
    async set(key, entry) {
      bump(sets, key);
      data.set(key, entry);
    },
    async delete(key) {
      return data.delete(key);
    },
    async clear() {
      data.clear();
    },
  });
  return Object.assign(store, { data, gets, sets });
}
