import type { CacheEntry, CacheStore, Clock, DataSource } from '@dc/core';
import { assertOneOf, assertValidKey, ClosedError, createEntry, systemClock } from '@dc/core';
import type { StrategyEventListener } from './events';
import type { CacheErrorPolicy } from './internal/cache-error';
import { CACHE_ERROR_POLICIES, toCacheError } from './internal/cache-error';
import { KeyMutex } from './internal/key-mutex';
import { notify } from './internal/notify';
import { assertClock, assertOptionalFunction, resolveSharedOptions, SCOPE } from './internal/options';

/** Options for {@link createWriteThrough}. */
export interface WriteThroughOptions<V> {
  /** The cache tier written after the data source. */
  store: CacheStore<V>;
  /** The system of record. Needs `save` and `delete`; `load` serves `get` on a miss. */
  dataSource: DataSource<V>;
  /** Time to live of a written entry (ms, finite, > 0). */
  ttlMs: number;
  /** Extra time (ms) after `ttlMs` an entry stays servable. @default 0 */
  graceMs?: number;
  /**
   * When the cache write fails after the data source accepted the write, the key is always
   * invalidated; then `'throw'` rejects the call with `E_STORE_UNAVAILABLE` (fail-closed: the
   * write is in the data source but was not acknowledged) and `'ignore'` acknowledges it
   * (fail-open) and reports a `cache:error` event. @default 'throw'
   */
  onCacheError?: CacheErrorPolicy;
  /** Time source for TTLs. @default systemClock */
  clock?: Clock;
  /** Receives `cache:error` events. */
  onEvent?: StrategyEventListener;
}

/** Defaults of the optional {@link WriteThroughOptions}. */
export const DEFAULT_WRITE_THROUGH_OPTIONS = Object.freeze({
  graceMs: 0,
  onCacheError: 'throw' as CacheErrorPolicy,
  clock: systemClock as Clock,
});

/** Fully resolved {@link WriteThroughOptions}. */
export type ResolvedWriteThroughOptions<V> = Readonly<
  Required<Omit<WriteThroughOptions<V>, 'onEvent'>> & Pick<WriteThroughOptions<V>, 'onEvent'>
>;

/**
 * Merges `options` over {@link DEFAULT_WRITE_THROUGH_OPTIONS} and validates every field.
 * @throws InvalidOptionError (`E_INVALID_OPTION`) naming the bad option.
 */
export function resolveWriteThroughOptions<V>(
  options: WriteThroughOptions<V>,
): ResolvedWriteThroughOptions<V> {
  const resolved = resolveSharedOptions<ResolvedWriteThroughOptions<V>>(
    'write-through',
    DEFAULT_WRITE_THROUGH_OPTIONS,
    options,
    ['save', 'delete'],
  );
  assertOneOf(resolved.onCacheError, CACHE_ERROR_POLICIES, 'onCacheError', SCOPE);
  assertClock(resolved.clock);
  assertOptionalFunction(resolved.onEvent, 'onEvent');
  return Object.freeze(resolved);
}

/** Synchronous writes to the data source and the cache. */
export interface WriteThrough<V> {
  /**
   * Writes `value` to the data source, then to the cache, and resolves only when both accepted.
   * A data-source failure rejects with its error and caches nothing. A cache failure
   * invalidates the key, then follows `onCacheError`.
   * @throws InvalidKeyError before any I/O; ClosedError after `close()`.
   */
  set(key: string, value: V): Promise<void>;
  /** Deletes from the data source, then from the cache; failures as for `set`. */
  delete(key: string): Promise<void>;
  /**
   * Reads the cache; on a miss (or for a key whose invalidation failed) reads the data source's
   * `load` and caches the result. Without `load`, a miss resolves `undefined`.
   */
  get(key: string): Promise<V | undefined>;
  /** Waits for writes in progress; later calls reject with `E_CLOSED`. The store stays open. */
  close(): Promise<void>;
}

/**
 * Write-through: every write goes to the data source and then the cache before it is
 * acknowledged. Writes to one key are applied in call order (a per-key chain), so two writes
 * can never reach the source and the cache in opposite orders. A key whose cache write and
 * invalidation both failed is remembered and read from the data source until a later
 * invalidation succeeds, so no older value is ever served by this instance.
 */
export function createWriteThrough<V>(options: WriteThroughOptions<V>): WriteThrough<V> {
  const { store, dataSource, ttlMs, graceMs, onCacheError, clock, onEvent } =
    resolveWriteThroughOptions(options);
  const locks = new KeyMutex();
  // Keys whose cache copy may be older than the data source (a write and its invalidation
  // both failed). Bounded by the number of distinct keys that failed that way.
  const suspect = new Set<string>();
  let closed = false;

  const assertOpen = (): void => {
    if (closed) throw new ClosedError(`[dc:${SCOPE}] write-through is closed`);
  };

  const invalidate = async (key: string): Promise<boolean> => {
    try {
      await store.delete(key);
      suspect.delete(key);
      return true;
    } catch {
      suspect.add(key);
      return false;
    }
  };

  const cacheFailed = async (operation: 'set' | 'delete', key: string, error: unknown): Promise<void> => {
    await invalidate(key);
    notify(onEvent, { type: 'cache:error', operation, key, error });
    if (onCacheError === 'throw') throw toCacheError(SCOPE, operation, key, error);
  };

  const writeCache = async (key: string, value: V): Promise<void> => {
    let entry: CacheEntry<V>;
    try {
      entry = createEntry(value, { now: clock.now(), ttlMs, graceMs });
      await store.set(key, entry);
      suspect.delete(key);
    } catch (error) {
      await cacheFailed('set', key, error);
    }
  };

  return {
    set(key, value) {
      try {
        assertOpen();
        assertValidKey(key, SCOPE);
      } catch (error) {
        return Promise.reject(error);
      }
      return locks.run(key, async () => {
        await dataSource.save(key, value);
        await writeCache(key, value);
      });
    },

    delete(key) {
      try {
        assertOpen();
        assertValidKey(key, SCOPE);
      } catch (error) {
        return Promise.reject(error);
      }
      return locks.run(key, async () => {
        await dataSource.delete(key);
        try {
          await store.delete(key);
          suspect.delete(key);
        } catch (error) {
          suspect.add(key);
          await cacheFailed('delete', key, error);
        }
      });
    },

    async get(key) {
      assertOpen();
      assertValidKey(key, SCOPE);
      if (!suspect.has(key)) {
        try {
          const entry = await store.get(key);
          if (entry !== undefined && clock.now() < entry.expiresAt) return entry.value;
        } catch (error) {
          notify(onEvent, { type: 'cache:error', operation: 'get', key, error });
        }
      }
      if (dataSource.load === undefined) return undefined;
      const load = dataSource.load.bind(dataSource);
      // The miss path runs in the key's chain so a slow load cannot cache a value older than
      // a write that finished while it was loading.
      return locks.run(key, async () => {
        if (suspect.has(key) && !(await invalidate(key))) return load(key);
        const value = await load(key);
        if (value !== undefined) {
          try {
            await store.set(key, createEntry(value, { now: clock.now(), ttlMs, graceMs }));
          } catch (error) {
            await invalidate(key);
            notify(onEvent, { type: 'cache:error', operation: 'set', key, error });
          }
        }
        return value;
      });
    },

    async close() {
      closed = true;
      await locks.settled();
    },
  };
}
