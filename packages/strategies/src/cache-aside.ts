import type { CacheEntry, CacheStore, Clock, DataSource } from '@dc/core';
import {
  assertNonNegativeMs,
  assertOneOf,
  assertValidKey,
  createEntry,
  InvalidOptionError,
  systemClock,
} from '@dc/core';
import type { StrategyEventListener } from './events';
import type { CacheErrorPolicy } from './internal/cache-error';
import { CACHE_ERROR_POLICIES, toCacheError } from './internal/cache-error';
import { notify } from './internal/notify';
import { assertClock, assertOptionalFunction, resolveSharedOptions, SCOPE } from './internal/options';

/** Options for {@link createCacheAside}. */
export interface CacheAsideOptions<V> {
  /** The cache tier read first and populated on a miss. */
  store: CacheStore<V>;
  /** The system of record. Needs `load`; `loadMany` is used for bulk misses when present. */
  dataSource: DataSource<V>;
  /** Time to live of a populated entry (ms, finite, > 0). */
  ttlMs: number;
  /**
   * Extra time (ms) a stale entry is still served while one background load refreshes it
   * (stale-while-revalidate). @default 0
   */
  graceMs?: number;
  /**
   * Negative caching: when > 0, a "not found" (`load` resolving `undefined`) is cached for
   * this long (ms). Errors are never cached. `0` turns it off. @default 0
   */
  negativeTtlMs?: number;
  /**
   * Refresh-ahead: a read of an entry older than this fraction of `ttlMs` starts one background
   * reload (0 < factor < 1). `0` turns it off. @default 0
   */
  refreshAheadFactor?: number;
  /**
   * When the cache tier fails: `'ignore'` serves from the data source (fail-open) and reports a
   * `cache:error` event; `'throw'` rejects with the error. @default 'ignore'
   */
  onCacheError?: CacheErrorPolicy;
  /** Time source for TTLs. @default systemClock */
  clock?: Clock;
  /** Receives `cache:error`, `refresh:done` and `refresh:error` events. */
  onEvent?: StrategyEventListener;
}

/** Defaults of the optional {@link CacheAsideOptions}. */
export const DEFAULT_CACHE_ASIDE_OPTIONS = Object.freeze({
  graceMs: 0,
  negativeTtlMs: 0,
  refreshAheadFactor: 0,
  onCacheError: 'ignore' as CacheErrorPolicy,
  clock: systemClock as Clock,
});

/** Fully resolved {@link CacheAsideOptions}. */
export type ResolvedCacheAsideOptions<V> = Readonly<
  Required<Omit<CacheAsideOptions<V>, 'onEvent'>> & Pick<CacheAsideOptions<V>, 'onEvent'>
>;

/**
 * Merges `options` over {@link DEFAULT_CACHE_ASIDE_OPTIONS} and validates every field.
 * @throws InvalidOptionError (`E_INVALID_OPTION`) naming the bad option.
 */
export function resolveCacheAsideOptions<V>(options: CacheAsideOptions<V>): ResolvedCacheAsideOptions<V> {
  const resolved = resolveSharedOptions<ResolvedCacheAsideOptions<V>>(
    'cache-aside',
    DEFAULT_CACHE_ASIDE_OPTIONS,
    options,
    ['load'],
  );
  assertNonNegativeMs(resolved.negativeTtlMs, 'negativeTtlMs', SCOPE);
  const factor = resolved.refreshAheadFactor;
  if (typeof factor !== 'number' || !(factor === 0 || (factor > 0 && factor < 1))) {
    throw new InvalidOptionError(
      `[dc:${SCOPE}] \`refreshAheadFactor\` must be 0 (off) or a number between 0 and 1 exclusive, got ${String(factor)}`,
    );
  }
  assertOneOf(resolved.onCacheError, CACHE_ERROR_POLICIES, 'onCacheError', SCOPE);
  assertClock(resolved.clock);
  assertOptionalFunction(resolved.onEvent, 'onEvent');
  return Object.freeze(resolved);
}

/** Read-through access to a data source via a cache. */
export interface CacheAside<V> {
  /**
   * The value for `key`: from the cache when it holds a live entry, otherwise loaded from the
   * data source (one load per key however many callers miss at once) and cached.
   * @throws InvalidKeyError before any I/O for an invalid key; the data source's error on a failed load.
   */
  get(key: string): Promise<V | undefined>;
  /**
   * Values for `keys`, in order. Misses are loaded with one `loadMany` call when the data source
   * has it, otherwise one coalesced `load` per key.
   */
  getMany(keys: readonly string[]): Promise<Array<V | undefined>>;
  /** Removes `key` from the cache and stops an in-flight load from populating an older value. */
  invalidate(key: string): Promise<void>;
  /** Number of loads in flight (for leak checks). */
  inFlight(): number;
  /** Waits for background refreshes to settle. The store and data source stay open. */
  close(): Promise<void>;
}

/** Marks a cached "not found"; a plain object so it survives any serializer. */
const NEGATIVE = Object.freeze({ $dcNegative: 1 });

function isNegative(value: unknown): boolean {
  return (
    typeof value === 'object' && value !== null && (value as { $dcNegative?: unknown }).$dcNegative === 1
  );
}

/** Returned by `serve` when the cache holds no live entry. */
const MISS: unique symbol = Symbol('miss');

interface Flight<V> {
  readonly promise: Promise<V | undefined>;
  cancelled: boolean;
}

/**
 * Cache-aside (lazy loading): check the cache, on a miss read the data source and populate.
 * Concurrent misses on one key share one load; negative caching is opt-in; refresh-ahead and
 * grace are optional.
 */
export function createCacheAside<V>(options: CacheAsideOptions<V>): CacheAside<V> {
  const resolved = resolveCacheAsideOptions(options);
  const {
    store,
    dataSource,
    ttlMs,
    graceMs,
    negativeTtlMs,
    refreshAheadFactor,
    onCacheError,
    clock,
    onEvent,
  } = resolved;
  const flights = new Map<string, Flight<V>>();
  const refreshes = new Set<Promise<unknown>>();
  const refreshAgeMs = refreshAheadFactor * ttlMs;

  const cacheFailed = (operation: 'get' | 'set' | 'delete', key: string, error: unknown): void => {
    notify(onEvent, { type: 'cache:error', operation, key, error });
    if (onCacheError === 'throw') throw toCacheError(SCOPE, operation, key, error);
  };

  const entryFor = (value: V | undefined, now: number): CacheEntry<V> | undefined => {
    if (value !== undefined) return createEntry(value, { now, ttlMs, graceMs });
    if (negativeTtlMs > 0) return createEntry(NEGATIVE as V, { now, ttlMs: negativeTtlMs });
    return undefined;
  };

  const populate = async (key: string, value: V | undefined, flight: Flight<V>, removeOnMiss: boolean) => {
    if (flight.cancelled) return;
    const entry = entryFor(value, clock.now());
    try {
      if (entry !== undefined) await store.set(key, entry);
      else if (removeOnMiss) await store.delete(key);
    } catch (error) {
      cacheFailed('set', key, error);
    }
  };

  const startFlight = (key: string, run: (flight: Flight<V>) => Promise<V | undefined>): Flight<V> => {
    const flight = { cancelled: false } as { promise: Promise<V | undefined>; cancelled: boolean };
    flight.promise = run(flight);
    flights.set(key, flight);
    const clear = (): void => {
      if (flights.get(key) === flight) flights.delete(key);
    };
    flight.promise.then(clear, clear);
    return flight;
  };

  const load = (key: string, removeOnMiss = false): Promise<V | undefined> => {
    const existing = flights.get(key);
    if (existing !== undefined) return existing.promise;
    return startFlight(key, async (flight) => {
      const value = await dataSource.load(key);
      await populate(key, value, flight, removeOnMiss);
      return value;
    }).promise;
  };

  const refresh = (key: string): void => {
    if (flights.has(key)) return;
    const done = load(key, true).then(
      () => notify(onEvent, { type: 'refresh:done', key }),
      (error: unknown) => notify(onEvent, { type: 'refresh:error', key, error }),
    );
    refreshes.add(done);
    void done.then(() => refreshes.delete(done));
  };

  /** The live value of `entry`, starting a background refresh when it is due; `miss` when gone. */
  const serve = (key: string, entry: CacheEntry<V> | undefined): V | undefined | typeof MISS => {
    if (entry === undefined) return MISS;
    const now = clock.now();
    if (now >= entry.expiresAt) return MISS;
    if (isNegative(entry.value)) return undefined;
    if (now >= entry.staleAt || (refreshAgeMs > 0 && now - (entry.staleAt - ttlMs) >= refreshAgeMs)) {
      refresh(key);
    }
    return entry.value;
  };

  return {
    async get(key) {
      assertValidKey(key, SCOPE);
      let entry: CacheEntry<V> | undefined;
      try {
        entry = await store.get(key);
      } catch (error) {
        cacheFailed('get', key, error);
      }
      const served = serve(key, entry);
      return served === MISS ? load(key) : served;
    },

    async getMany(keys) {
      if (!Array.isArray(keys)) {
        throw new InvalidOptionError(`[dc:${SCOPE}] \`keys\` must be an array of keys`);
      }
      for (const key of keys) assertValidKey(key, SCOPE);
      let entries: Array<CacheEntry<V> | undefined> = [];
      try {
        entries = await store.getMany(keys);
      } catch (error) {
        cacheFailed('get', keys[0] ?? '', error);
      }
      const results: Array<V | undefined | typeof MISS> = keys.map((key, i) => serve(key, entries[i]));
      const waiting = new Map<string, Promise<V | undefined>>();
      const toLoad: string[] = [];
      results.forEach((result, i) => {
        const key = keys[i] as string;
        if (result !== MISS || waiting.has(key)) return;
        const flight = flights.get(key);
        if (flight !== undefined) waiting.set(key, flight.promise);
        else {
          toLoad.push(key);
          waiting.set(key, undefined as never);
        }
      });
      if (toLoad.length > 0) {
        if (dataSource.loadMany !== undefined && toLoad.length > 1) {
          const loadMany = dataSource.loadMany.bind(dataSource);
          const batch = loadBatch(toLoad, loadMany);
          for (const key of toLoad) waiting.set(key, batch(key));
        } else {
          for (const key of toLoad) waiting.set(key, load(key));
        }
      }
      const loaded = new Map<string, V | undefined>();
      await Promise.all(
        [...waiting].map(async ([key, promise]) => {
          loaded.set(key, await promise);
        }),
      );
      return results.map((result, i) => (result === MISS ? loaded.get(keys[i] as string) : result));
    },

    async invalidate(key) {
      assertValidKey(key, SCOPE);
      const flight = flights.get(key);
      if (flight !== undefined) {
        flight.cancelled = true;
        flights.delete(key);
      }
      try {
        await store.delete(key);
      } catch (error) {
        cacheFailed('delete', key, error);
      }
    },

    inFlight: () => flights.size,

    async close() {
      while (refreshes.size > 0) await Promise.all([...refreshes]);
    },
  };

  /**
   * One `loadMany` for every key, registered as one flight per key so that concurrent `get`s
   * join it; entries are written with one `setMany`.
   */
  function loadBatch(
    keys: readonly string[],
    loadMany: (keys: readonly string[]) => Promise<ReadonlyMap<string, V>>,
  ): (key: string) => Promise<V | undefined> {
    const batchFlights: Flight<V>[] = [];
    const all = loadMany(keys).then(async (found) => {
      const now = clock.now();
      const writes: Array<[string, CacheEntry<V>]> = [];
      keys.forEach((key, i) => {
        if (batchFlights[i]?.cancelled) return;
        const entry = entryFor(found.get(key), now);
        if (entry !== undefined) writes.push([key, entry]);
      });
      if (writes.length > 0) {
        try {
          await store.setMany(writes);
        } catch (error) {
          cacheFailed('set', keys[0] as string, error);
        }
      }
      return found;
    });
    for (const key of keys) batchFlights.push(startFlight(key, () => all.then((found) => found.get(key))));
    return (key) =>
      (flights.get(key)?.promise ?? all.then((found) => found.get(key))) as Promise<V | undefined>;
  }
}
