import type { CacheEntry, CacheStore, Clock, Serializer, SyncCacheStore } from '@dc/core';
import {
  assertInteger,
  assertValidEntry,
  assertValidKey,
  ClosedError,
  InvalidOptionError,
  systemClock,
} from '@dc/core';
import type { EvictionPolicy } from '@dc/eviction';
import { createMemoryStore } from '@dc/eviction';

/** Options for {@link createEmbeddedStore}. */
export interface EmbeddedStoreOptions {
  /** Most entries held; the policy evicts beyond it (integer >= 1). @default 100000 */
  maxEntries?: number;
  /** Eviction policy of the underlying `@dc/eviction` store. @default 'lru' */
  policy?: EvictionPolicy;
  /**
   * Encode values on write and decode them on read, as a remote L2 would: a value the serializer
   * cannot encode is rejected before anything is stored (`E_SERIALIZATION`), and readers get a
   * copy, never the writer's object. Unset: values are stored by reference. @default undefined
   */
  serializer?: Serializer | undefined;
  /** Time source of expiry. @default systemClock */
  clock?: Clock;
  /** Name in errors and metrics. @default 'embedded' */
  name?: string;
}

/** Defaults of {@link EmbeddedStoreOptions}. */
export const DEFAULT_EMBEDDED_STORE_OPTIONS = Object.freeze({
  maxEntries: 100_000,
  policy: 'lru' as EvictionPolicy,
  name: 'embedded',
});

/** The in-process L2 of the embedded default: a `CacheStore` with a synchronous face. */
export interface EmbeddedStore<V = unknown> extends CacheStore<V>, SyncCacheStore<V> {
  /** Entries held (may count expired entries not yet reclaimed). */
  readonly size: number;
}

interface Stored {
  readonly payload: unknown;
  readonly expiresAt: number;
  readonly staleAt: number;
  readonly deltaMs: number | undefined;
  readonly tags: readonly string[] | undefined;
}

const embeddedStores = new WeakSet<object>();

/** True when `store` was made by {@link createEmbeddedStore} (in-process: no L2 timeout needed). */
export function isEmbeddedStore(store: unknown): store is EmbeddedStore<unknown> {
  return typeof store === 'object' && store !== null && embeddedStores.has(store);
}

/**
 * The L2 that `createCache` uses when no `l2` is given: a bounded in-process store built on
 * `@dc/eviction`, so the facade works with no Redis at all. Pass one instance as `l2` to several
 * caches to give them a shared tier in tests and single-process apps.
 * @throws InvalidOptionError naming a bad option.
 */
export function createEmbeddedStore<V = unknown>(options: EmbeddedStoreOptions = {}): EmbeddedStore<V> {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError(
      `[dc:cache] embedded store options must be an object, got ${String(options)}`,
    );
  }
  const { maxEntries, policy, name } = { ...DEFAULT_EMBEDDED_STORE_OPTIONS, ...options };
  const clock = options.clock ?? systemClock;
  const { serializer } = options;
  assertInteger(maxEntries, 'maxEntries', 1, 'cache');
  if (typeof name !== 'string' || name.length === 0) {
    throw new InvalidOptionError(`[dc:cache] \`name\` must be a non-empty string, got ${String(name)}`);
  }
  if (
    serializer !== undefined &&
    (typeof serializer !== 'object' ||
      typeof serializer.encode !== 'function' ||
      typeof serializer.decode !== 'function')
  ) {
    throw new InvalidOptionError('[dc:cache] `serializer` must have `encode` and `decode` functions');
  }
  const memory = createMemoryStore<Stored>({ maxEntries, policy, clock });
  let closed = false;

  const check = (key: unknown): void => {
    if (closed) throw new ClosedError(`[dc:${name}] store is closed`);
    assertValidKey(key, name);
  };

  const getSync = (key: string): CacheEntry<V> | undefined => {
    check(key);
    const stored = memory.get(key);
    if (stored === undefined) return undefined;
    if (clock.now() >= stored.expiresAt) {
      memory.delete(key);
      return undefined;
    }
    const value = (serializer ? serializer.decode(stored.payload as string) : stored.payload) as V;
    const entry: { -readonly [K in keyof CacheEntry<V>]: CacheEntry<V>[K] } = {
      value,
      expiresAt: stored.expiresAt,
      staleAt: stored.staleAt,
    };
    if (stored.deltaMs !== undefined) entry.deltaMs = stored.deltaMs;
    if (stored.tags !== undefined) entry.tags = [...stored.tags];
    return entry;
  };

  /** Validates and encodes before anything is touched: a bad write leaves the older entry intact. */
  const prepare = (key: string, entry: CacheEntry<V>): Stored => {
    check(key);
    assertValidEntry(entry, name);
    return {
      payload: serializer ? serializer.encode(entry.value) : entry.value,
      expiresAt: entry.expiresAt,
      staleAt: entry.staleAt,
      deltaMs: entry.deltaMs,
      tags: entry.tags === undefined ? undefined : [...entry.tags],
    };
  };

  const put = (key: string, stored: Stored): void => {
    if (clock.now() >= stored.expiresAt) memory.delete(key);
    else memory.set(key, stored, { expiresAt: stored.expiresAt });
  };

  const setSync = (key: string, entry: CacheEntry<V>): void => put(key, prepare(key, entry));

  const deleteSync = (key: string): boolean => {
    check(key);
    return memory.delete(key);
  };

  const settle = <T>(run: () => T): Promise<T> => {
    try {
      return Promise.resolve(run());
    } catch (error) {
      return Promise.reject(error);
    }
  };

  const store: EmbeddedStore<V> = {
    name,
    get size() {
      return memory.size;
    },
    getSync,
    setSync,
    deleteSync,
    get: (key) => settle(() => getSync(key)),
    set: (key, entry) => settle(() => setSync(key, entry)),
    delete: (key) => settle(() => deleteSync(key)),
    clear: () =>
      settle(() => {
        if (closed) throw new ClosedError(`[dc:${name}] store is closed`);
        memory.clear();
      }),
    close: () => {
      if (!closed) {
        closed = true;
        memory.close();
      }
      return Promise.resolve();
    },
    getMany: (keys) =>
      settle(() => {
        for (const key of keys) check(key);
        return keys.map(getSync);
      }),
    setMany: (entries) =>
      settle(() => {
        const prepared = entries.map(([key, entry]) => prepare(key, entry));
        entries.forEach(([key], i) => {
          put(key, prepared[i] as Stored);
        });
      }),
    deleteMany: (keys) =>
      settle(() => {
        for (const key of keys) check(key);
        let removed = 0;
        for (const key of keys) if (memory.delete(key)) removed++;
        return removed;
      }),
  };
  embeddedStores.add(store);
  return store;
}
