import type { CacheEntry, CacheStore } from '@dc/core';
import { defineStore } from '@dc/core';

/** mulberry32: a seeded PRNG so every run replays the same stream. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Draws `count` ranks from Zipf(`skew`) over `n` items (0 = most frequent). */
export function zipfRanks(n: number, skew: number, count: number, random: () => number): Uint32Array {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    sum += 1 / (i + 1) ** skew;
    cdf[i] = sum;
  }
  const out = new Uint32Array(count);
  for (let j = 0; j < count; j++) {
    const target = random() * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((cdf[mid] as number) < target) lo = mid + 1;
      else hi = mid;
    }
    out[j] = lo;
  }
  return out;
}

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
