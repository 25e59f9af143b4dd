import type { CacheEntry, CacheStore, Clock, Loader, Random, TimerHandle } from '@dc/core';
import {
  assertNonNegativeMs,
  assertTtlMs,
  assertValidKey,
  createEntry,
  describeValue,
  InvalidOptionError,
  isSyncCacheStore,
  systemClock,
} from '@dc/core';
import type { DistributedLock, LockToken } from './distributed-lock';
import { assertFunction, noop, SCOPE } from './internal/validate';
import { assertJitterRatio, jitterTtl } from './jitter';
import { loadWithTimeout } from './load-with-timeout';
import { createReadPolicy, type ReadPolicy } from './read-policy';

/** Where a reported error happened. */
export type StaleWhileRevalidatePhase = 'load' | 'store-get' | 'store-set' | 'lock';

/** Context passed to {@link StaleWhileRevalidateOptions.onError}. */
export interface StaleWhileRevalidateErrorContext {
  /** The key being read or refreshed. */
  readonly key: string;
  /**
   * `'load'`: the loader failed or hit the hard timeout ;
   * `'store-*'`: the store did; `'lock'`: the distributed lock failed (the load went ahead).
   */
  readonly phase: StaleWhileRevalidatePhase;
}

/** Options for {@link createStaleWhileRevalidate}. */
export interface StaleWhileRevalidateOptions<V = unknown> {
  /** Where entries live (any `CacheStore`; a `SyncCacheStore` is read without an `await`). */
  readonly store: CacheStore<V>;
  /** How long a loaded value stays fresh (ms, > 0): `staleAt = now + ttlMs`. */
  readonly ttlMs: number;
  /** How long past `staleAt` a stale value may still be served while it is refreshed (ms, >= 0). @default 0 */
  readonly graceMs?: number | undefined;
  /** Spread of `ttlMs` in [0, 1) (see `jitterTtl`), so keys loaded together do not expire together. @default 0 */
  readonly jitterRatio?: number | undefined;
  /** Refresh fresh entries early with XFetch, using the `deltaMs` measured on each load. @default true */
  readonly earlyRecompute?: boolean | undefined;
  /** XFetch eagerness (> 0). @default 1 */
  readonly beta?: number | undefined;
  /** After a failed refresh, serve stale without retrying for this long (ms, >= 0). @default 1000 */
  readonly graceBackoffMs?: number | undefined;
  /**
   * With a stale entry, wait at most this long (ms, >= 0) for the refresh before answering with
   * the stale value; the load goes on in the background and updates the store. Unset: stale
   * entries are answered at once. @default undefined
   */
  readonly softTimeoutMs?: number | undefined;
  /**
   * Give up on a load after this long (ms, > 0): waiters reject with `LoaderTimeoutError`
   * (`E_LOADER_TIMEOUT`) and the loader's `signal` is aborted. Unset: no limit. @default undefined
   */
  readonly hardTimeoutMs?: number | undefined;
  /**
   * Coordinates loads across processes: a miss waits up to `lockWaitMs` for the lock, re-reads the
   * store and loads only if nobody else filled it; a background refresh that finds the lock taken
   * keeps serving what it has. Unset: coordination is per process only. @default undefined
   */
  readonly lock?: DistributedLock | undefined;
  /** Lock lifetime (ms, > 0); longer than the slowest load. @default 10000 */
  readonly lockTtlMs?: number | undefined;
  /** How long a miss waits for another process's load (ms, >= 0). @default 5000 */
  readonly lockWaitMs?: number | undefined;
  /** Prefix of lock keys, keeping them apart from cache keys in a shared backend. @default 'lock:' */
  readonly lockKeyPrefix?: string | undefined;
  /** Time source (timers for the soft and hard timeouts). @default systemClock */
  readonly clock?: Clock | undefined;
  /** Uniform random numbers in [0, 1) for jitter and XFetch. @default Math.random */
  readonly random?: Random | undefined;
  /**
   * Called once per failed load (in the background or not) and per store failure; background
   * failures are never surfaced any other way and never become unhandled rejections.
   */
  readonly onError?: ((error: unknown, context: StaleWhileRevalidateErrorContext) => void) | undefined;
}

/** Defaults of {@link StaleWhileRevalidateOptions}. */
export const DEFAULT_STALE_WHILE_REVALIDATE_OPTIONS: Readonly<{
  graceMs: number;
  jitterRatio: number;
  earlyRecompute: boolean;
  beta: number;
  graceBackoffMs: number;
  lockTtlMs: number;
  lockWaitMs: number;
  lockKeyPrefix: string;
}> = Object.freeze({
  graceMs: 0,
  jitterRatio: 0,
  earlyRecompute: true,
  beta: 1,
  graceBackoffMs: 1_000,
  lockTtlMs: 10_000,
  lockWaitMs: 5_000,
  lockKeyPrefix: 'lock:',
});

/** Counters of a {@link StaleWhileRevalidate}, for metrics. */
export interface StaleWhileRevalidateStats {
  /** Loader calls started (misses and refreshes). */
  readonly loads: number;
  /** Reads that joined a load already in flight. */
  readonly coalesced: number;
  /** Reads answered with a stale value (past `staleAt`). */
  readonly staleServed: number;
  /** Refreshes started because XFetch chose to recompute early. */
  readonly earlyRefreshes: number;
  /** Errors passed to `onError`. */
  readonly errors: number;
}

/** Read-through with single-flight, XFetch early refresh, grace, and soft/hard timeouts. */
export interface StaleWhileRevalidate<V = unknown> {
  /**
   * The value for `key`: fresh from the store, stale within grace (one refresh in the
   * background), or loaded by `loader` (one call per key however many callers wait).
   * @throws InvalidKeyError / InvalidOptionError (as rejections) for a bad key or loader;
   * LoaderTimeoutError on a miss that outlives `hardTimeoutMs`; the loader's error on a miss.
   */
  getOrLoad(key: string, loader: Loader<V>): Promise<V>;
  /** Keys with a load in flight. */
  inFlightCount(): number;
  /** Resolves once no load is in flight (for tests and graceful shutdown). */
  settle(): Promise<void>;
  /** Counters since creation. */
  stats(): StaleWhileRevalidateStats;
}

/** {@link StaleWhileRevalidateOptions} after validation, defaults filled in. */
export interface ResolvedStaleWhileRevalidateOptions<V> {
  store: CacheStore<V>;
  lock: DistributedLock | undefined;
  lockTtlMs: number;
  lockWaitMs: number;
  lockKeyPrefix: string;
  ttlMs: number;
  graceMs: number;
  jitterRatio: number;
  graceBackoffMs: number;
  softTimeoutMs: number | undefined;
  hardTimeoutMs: number | undefined;
  clock: Clock;
  random: Random;
  policy: ReadPolicy;
  onError: ((error: unknown, context: StaleWhileRevalidateErrorContext) => void) | undefined;
}

/** Validates {@link StaleWhileRevalidateOptions} and fills in the defaults. */
export function resolveStaleWhileRevalidateOptions<V>(
  options: StaleWhileRevalidateOptions<V>,
): ResolvedStaleWhileRevalidateOptions<V> {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError(`[dc:${SCOPE}] options must be an object, got ${describeValue(options)}`);
  }
  const d = DEFAULT_STALE_WHILE_REVALIDATE_OPTIONS;
  const { store, ttlMs, softTimeoutMs, hardTimeoutMs, onError } = options;
  if (typeof store !== 'object' || store === null || typeof store.get !== 'function') {
    throw new InvalidOptionError(`[dc:${SCOPE}] \`store\` must be a CacheStore, got ${describeValue(store)}`);
  }
  assertTtlMs(ttlMs, 'ttlMs', SCOPE);
  const graceMs = options.graceMs ?? d.graceMs;
  assertNonNegativeMs(graceMs, 'graceMs', SCOPE);
  const jitterRatio = options.jitterRatio ?? d.jitterRatio;
  assertJitterRatio(jitterRatio, 'jitterRatio');
  const graceBackoffMs = options.graceBackoffMs ?? d.graceBackoffMs;
  assertNonNegativeMs(graceBackoffMs, 'graceBackoffMs', SCOPE);
  if (softTimeoutMs !== undefined) assertNonNegativeMs(softTimeoutMs, 'softTimeoutMs', SCOPE);
  if (hardTimeoutMs !== undefined) assertTtlMs(hardTimeoutMs, 'hardTimeoutMs', SCOPE);
  const clock = options.clock ?? systemClock;
  if (typeof clock !== 'object' || clock === null || typeof clock.now !== 'function') {
    throw new InvalidOptionError(`[dc:${SCOPE}] \`clock\` must be a Clock, got ${describeValue(clock)}`);
  }
  const random = options.random ?? Math.random;
  assertFunction(random, 'random');
  if (onError !== undefined) assertFunction(onError, 'onError');
  const { lock } = options;
  if (
    lock !== undefined &&
    (typeof lock !== 'object' || lock === null || typeof lock.acquire !== 'function')
  ) {
    throw new InvalidOptionError(
      `[dc:${SCOPE}] \`lock\` must be a DistributedLock, got ${describeValue(lock)}`,
    );
  }
  const lockTtlMs = options.lockTtlMs ?? d.lockTtlMs;
  assertTtlMs(lockTtlMs, 'lockTtlMs', SCOPE);
  const lockWaitMs = options.lockWaitMs ?? d.lockWaitMs;
  assertNonNegativeMs(lockWaitMs, 'lockWaitMs', SCOPE);
  const lockKeyPrefix = options.lockKeyPrefix ?? d.lockKeyPrefix;
  if (typeof lockKeyPrefix !== 'string') {
    throw new InvalidOptionError(
      `[dc:${SCOPE}] \`lockKeyPrefix\` must be a string, got ${describeValue(lockKeyPrefix)}`,
    );
  }
  const policy = createReadPolicy({
    earlyRecompute: options.earlyRecompute ?? d.earlyRecompute,
    beta: options.beta ?? d.beta,
    random: () => 1 - random(),
  });
  return {
    store,
    lock,
    lockTtlMs,
    lockWaitMs,
    lockKeyPrefix,
    ttlMs,
    graceMs,
    jitterRatio,
    graceBackoffMs,
    softTimeoutMs,
    hardTimeoutMs,
    clock,
    random,
    policy,
    onError,
  };
}

const SOFT_TIMEOUT: unique symbol = Symbol('soft-timeout');

interface Flight<V> {
  promise: Promise<V>;
  soft: Promise<typeof SOFT_TIMEOUT> | undefined;
  softTimer: TimerHandle | undefined;
}

/**
 * Creates a stale-while-revalidate reader over any `CacheStore`:
 * - fresh entry: served (XFetch may also start one early refresh in the background);
 * - stale entry within grace: served while one background refresh runs; with `softTimeoutMs`
 *   the caller first waits up to that long for the refresh; a failed refresh keeps the stale
 *   value in service and is not retried for `graceBackoffMs`;
 * - miss: one load per key, every caller waits for it (`hardTimeoutMs` bounds the wait).
 *
 * Each load measures its duration and stores it as `CacheEntry.deltaMs` for XFetch.
 * @throws InvalidOptionError for invalid options.
 */
export function createStaleWhileRevalidate<V = unknown>(
  options: StaleWhileRevalidateOptions<V>,
): StaleWhileRevalidate<V> {
  const o = resolveStaleWhileRevalidateOptions(options);
  const { store, clock, policy } = o;
  const syncStore = isSyncCacheStore(store) ? store : undefined;
  const flights = new Map<string, Flight<V>>();
  const retryAt = new Map<string, number>();
  let loads = 0;
  let coalesced = 0;
  let staleServed = 0;
  let earlyRefreshes = 0;
  let errors = 0;

  const report = (error: unknown, key: string, phase: StaleWhileRevalidatePhase): void => {
    errors++;
    try {
      o.onError?.(error, { key, phase });
    } catch {
      // A throwing error hook must not turn a handled failure into an unhandled one.
    }
  };

  const callLoader = (key: string, loader: Loader<V>): Promise<V> =>
    loadWithTimeout(key, loader, { hardTimeoutMs: o.hardTimeoutMs, clock, scope: SCOPE });

  const readStore = async (key: string): Promise<CacheEntry<V> | undefined> => {
    try {
      return syncStore !== undefined ? syncStore.getSync(key) : await store.get(key);
    } catch (error) {
      report(error, key, 'store-get');
      return undefined;
    }
  };

  const loadAndStore = async (key: string, loader: Loader<V>): Promise<V> => {
    loads++;
    const startedAt = clock.now();
    const value = await callLoader(key, loader);
    const now = clock.now();
    const ttlMs =
      o.jitterRatio === 0 ? o.ttlMs : jitterTtl(o.ttlMs, { ratio: o.jitterRatio, random: o.random });
    const entry = createEntry(value, {
      now,
      ttlMs,
      graceMs: o.graceMs,
      deltaMs: Math.max(0, now - startedAt),
    });
    try {
      await store.set(key, entry);
    } catch (error) {
      report(error, key, 'store-set');
    }
    return value;
  };

  // With a distributed lock, one process loads; the others wait for the lock and then find the
  // entry it wrote (double-checked), or, for a background refresh, keep serving what they have.
  const loadUnderLock = async (
    lock: DistributedLock,
    key: string,
    loader: Loader<V>,
    current: CacheEntry<V> | undefined,
  ): Promise<V> => {
    let token: LockToken | null;
    try {
      token = await lock.acquire(o.lockKeyPrefix + key, {
        ttlMs: o.lockTtlMs,
        waitMs: current === undefined ? o.lockWaitMs : 0,
      });
    } catch (error) {
      // The lock backend is down: fail open to per-process coordination.
      report(error, key, 'lock');
      return loadAndStore(key, loader);
    }
    try {
      const latest = await readStore(key);
      const now = clock.now();
      const newer =
        latest !== undefined &&
        now < latest.expiresAt &&
        (current === undefined ? now < latest.staleAt : latest.staleAt > current.staleAt);
      if (newer) return (latest as CacheEntry<V>).value;
      // Another process holds the lock and is refreshing: keep the value we have.
      if (token === null && current !== undefined) return current.value;
      // No lock within `lockWaitMs` and still nothing stored: load anyway (fail open).
      return await loadAndStore(key, loader);
    } finally {
      if (token !== null) await lock.release(token).catch((error: unknown) => report(error, key, 'lock'));
    }
  };

  const startLoad = (key: string, loader: Loader<V>, current: CacheEntry<V> | undefined): Flight<V> => {
    const existing = flights.get(key);
    if (existing !== undefined) {
      coalesced++;
      return existing;
    }
    const flight: Flight<V> = { promise: undefined as never, soft: undefined, softTimer: undefined };
    // Registered before the loader runs, so a synchronously throwing loader unregisters it.
    flights.set(key, flight);
    flight.promise = (async () => {
      try {
        const value =
          o.lock === undefined
            ? await loadAndStore(key, loader)
            : await loadUnderLock(o.lock, key, loader, current);
        retryAt.delete(key);
        return value;
      } catch (error) {
        if (o.graceBackoffMs > 0) retryAt.set(key, clock.now() + o.graceBackoffMs);
        report(error, key, 'load');
        throw error;
      } finally {
        flight.softTimer?.cancel();
        if (flights.get(key) === flight) flights.delete(key);
      }
    })();
    // Background refreshes may have no caller left to observe a failure (it went to onError).
    flight.promise.catch(noop);
    return flight;
  };

  const waitSoft = async (flight: Flight<V>, stale: CacheEntry<V>, softTimeoutMs: number): Promise<V> => {
    flight.soft ??= new Promise<typeof SOFT_TIMEOUT>((resolve) => {
      flight.softTimer = clock.setTimer(() => resolve(SOFT_TIMEOUT), softTimeoutMs);
    });
    let result: V | typeof SOFT_TIMEOUT;
    try {
      result = await Promise.race([flight.promise, flight.soft]);
    } catch {
      // The refresh failed (already reported): grace means the stale value is still the answer.
      result = SOFT_TIMEOUT;
    }
    if (result !== SOFT_TIMEOUT) return result;
    staleServed++;
    return stale.value;
  };

  const decide = (key: string, loader: Loader<V>, entry: CacheEntry<V> | undefined): V | Promise<V> => {
    const now = clock.now();
    const decision = policy(entry, now);
    if (decision === 'fresh') return (entry as CacheEntry<V>).value;
    if (decision === 'miss') return startLoad(key, loader, undefined).promise;
    const current = entry as CacheEntry<V>;
    const stale = decision === 'refresh-in-background';
    const until = retryAt.get(key);
    if (until !== undefined) {
      if (now < until) {
        if (stale) staleServed++;
        return current.value;
      }
      retryAt.delete(key);
    }
    const joining = flights.has(key);
    const flight = startLoad(key, loader, current);
    if (!stale) {
      if (!joining) earlyRefreshes++;
      return current.value;
    }
    if (o.softTimeoutMs === undefined) {
      staleServed++;
      return current.value;
    }
    return waitSoft(flight, current, o.softTimeoutMs);
  };

  return {
    async getOrLoad(key, loader) {
      assertValidKey(key, SCOPE);
      assertFunction(loader, 'loader');
      let entry: CacheEntry<V> | undefined;
      try {
        entry = syncStore !== undefined ? syncStore.getSync(key) : await store.get(key);
      } catch (error) {
        // Fail open: an unreadable store is treated as a miss and the data source answers.
        report(error, key, 'store-get');
        entry = undefined;
      }
      return decide(key, loader, entry);
    },
    inFlightCount: () => flights.size,
    async settle() {
      for (let round = 0; flights.size > 0 && round < 1_000; round++) {
        await Promise.allSettled(Array.from(flights.values(), (f) => f.promise));
      }
    },
    stats: () => ({ loads, coalesced, staleServed, earlyRefreshes, errors }),
  };
}
