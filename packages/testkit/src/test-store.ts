import { type CacheEntry, type CacheStore, type Clock, defineStore, systemClock } from '@dc/core';

/** Options for {@link createTestStore}. */
export interface TestStoreOptions {
  /** Time source for passive expiry. @default systemClock */
  clock?: Clock;
  /** Keep entries as JSON text, like a serializing remote store. @default false */
  serialize?: boolean;
  /** Store name (error-message scope). @default 'test-memory' */
  name?: string;
}

/** The smallest correct {@link CacheStore}, with its raw contents exposed for assertions. */
export interface TestStore<V = unknown> extends CacheStore<V> {
  /** Raw stored entries, expired ones included until read. */
  readonly entries: Map<string, CacheEntry<V>>;
}

/**
 * A `Map`-backed store built with `defineStore` (so `__proto__` is an ordinary key and input is
 * validated), with passive expiry against the injected clock. For tests of anything that takes
 * a `CacheStore`; it also validates the conformance suite itself.
 */
export function createTestStore<V = unknown>(options: TestStoreOptions = {}): TestStore<V> {
  const { clock = systemClock, serialize = false, name = 'test-memory' } = options;
  const entries = new Map<string, CacheEntry<V>>();
  // A serializing store hands out a fresh copy on every read and keeps its own on write.
  const copy = serialize
    ? (entry: CacheEntry<V>) => JSON.parse(JSON.stringify(entry)) as CacheEntry<V>
    : undefined;
  const read = (key: string): CacheEntry<V> | undefined => {
    const entry = entries.get(key);
    if (entry === undefined) return undefined;
    if (clock.now() >= entry.expiresAt) {
      entries.delete(key);
      return undefined;
    }
    return copy ? copy(entry) : entry;
  };
  const store = defineStore<V>({
    name,
    async get(key) {
      return read(key);
    },
    async set(key, entry) {
      entries.set(key, copy ? copy(entry) : entry);
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
  return Object.assign(store, { entries });
}
