import { randomUUID } from 'node:crypto';
import type { CacheEntry, CacheStore, LoadContext, SyncCacheStore, TimerHandle } from '@dc/core';
import {
  assertValidKey,
  ClosedError,
  createEntry,
  DEFAULT_MAX_KEY_LENGTH,
  describeValue,
  InvalidOptionError,
  isDcError,
  isSyncCacheStore,
} from '@dc/core';
import type { HotKeyDetector } from '@dc/hotkeys';
import { createHotKeyDetector } from '@dc/hotkeys';
import type { InvalidationLink, L1Store, L1StoreOptions } from '@dc/l1';
import { attachInvalidationBus, createCoarseClock, createL1Store, resolveL1StoreOptions } from '@dc/l1';
import type { LockToken } from '@dc/stampede';
import { jitterTtl, loadWithTimeout, shouldRecomputeEarly } from '@dc/stampede';
import type { WriteBehind, WriteThrough } from '@dc/strategies';
import { createWriteBehind, createWriteThrough } from '@dc/strategies';
import { createEmbeddedStore, isEmbeddedStore } from './embedded-store';
import type { CacheEventListener, CacheEventMap, CacheEventName, CacheStats, CacheTier } from './events';
import type { HotEntry } from './internal/hot-entry';
import { NEGATIVE_MARKER, toHotEntry, visibleValue } from './internal/hot-entry';
import { L2Gateway } from './internal/l2-gateway';
import type { CacheEntryOptions, CacheOptions, ResolvedEntryOptions } from './options';
import { resolveCacheOptions, resolveEntryOptions } from './options';

const SCOPE = 'cache';

/**
 * Produces the value for a key on a miss. `undefined` means "not found": nothing is cached
 * unless `negativeTtl` is set. A thrown error reaches every waiting caller and is never cached.
 */
export type CacheLoader<V> = (key: string, context: LoadContext) => V | Promise<V>;

/** The facade: L1 → L2 → one load per key, with stale-while-revalidate and fail-open L2. */
export interface Cache<V = unknown> {
  /** The `namespace` option. */
  readonly namespace: string | undefined;
  /** The L1 in use, or `undefined` with `l1: false`. */
  readonly l1: L1Store<V> | undefined;
  /** The L2 in use (the embedded store when none was given). */
  readonly l2: CacheStore<V>;
  /**
   * The fresh value for `key` from L1 or L2, or `undefined`. Never loads; a stale value
   * (within grace) counts as a miss here.
   * @throws InvalidKeyError (as a rejection) for a bad key; CacheUnavailableError in fail-closed mode.
   */
  get(key: string): Promise<V | undefined>;
  /**
   * The fresh value for `key` if this instance's L1 holds it, else `undefined`: synchronous, never
   * reads L2 and never loads (a miss is not counted). `undefined` without an L1.
   * @throws InvalidKeyError for a bad key; ClosedError after `close()`.
   */
  getSync(key: string): V | undefined;
  /**
   * The value for `key`: an L1 hit answers with no `await`; then L2; then `loader` (or the
   * `dataSource`'s `load`), called once per key however many callers wait, and written to L2
   * then L1. A stale value within grace is served while one refresh runs; XFetch refreshes early.
   * @throws InvalidKeyError / InvalidOptionError (as rejections) before any I/O; the loader's error;
   *   LoaderTimeoutError after `hardTimeout` with no stale value; CacheUnavailableError when
   *   `failMode: 'closed'` and L2 fails.
   */
  getOrSet(key: string, loader?: CacheLoader<V>, options?: CacheEntryOptions): Promise<V>;
  /**
   * Writes `value` to L2, then L1 (other instances' L1 copies are invalidated on the bus). With
   * `writeMode: 'write-through'` or `'write-behind'` the `dataSource` gets it too.
   * @throws InvalidKeyError / InvalidOptionError / SerializationError before any I/O;
   *   CacheUnavailableError in fail-closed mode.
   */
  set(key: string, value: V, options?: CacheEntryOptions): Promise<void>;
  /** Removes `key` from L2, then L1 (and from other instances' L1); `true` when L2 or L1 held it. */
  delete(key: string): Promise<boolean>;
  /** Removes every key; resolves how many L2 removed. */
  deleteMany(keys: readonly string[]): Promise<number>;
  /** True when `get(key)` would find a value. */
  has(key: string): Promise<boolean>;
  /** Empties L2 (this namespace) and every instance's L1. */
  clear(): Promise<void>;
  /** Resolves once no load or refresh is in flight (tests, graceful shutdown). */
  settle(): Promise<void>;
  /**
   * Stops timers, flushes write-behind, closes what the cache created (L1, the embedded L2, the
   * hot-key detector, the bus link); an `l2`, `bus` or `lock` you passed in stays open. Idempotent.
   */
  close(): Promise<void>;
  /** Counters since creation. */
  stats(): CacheStats;
  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends CacheEventName>(event: E, listener: CacheEventListener<E>): () => void;
}

interface Flight<V> {
  promise: Promise<V | undefined>;
  /** Set when the key was written, deleted or invalidated after the load started. */
  dirty: boolean;
  soft: Promise<typeof SOFT_TIMEOUT> | undefined;
  softTimer: TimerHandle | undefined;
}

const SOFT_TIMEOUT: unique symbol = Symbol('soft-timeout');
/** How long after writing a loaded value to L2 a remote invalidation of the key retracts it. */
const RETRACT_WINDOW_MS = 2_000;
const noop = (): void => {};

/**
 * Creates the facade. With no options it runs on an L1 and the embedded in-process L2, so it
 * needs no Redis; pass `l2: createRedisStore(...)` and `bus` for a distributed cache.
 *
 * ```ts
 * const cache = createCache<User>({ ttl: '10m', grace: '1h' });
 * const user = await cache.getOrSet('user:1', () => db.users.find(1));
 * ```
 * @throws InvalidOptionError naming a bad or unknown option.
 */
export function createCache<V = unknown>(options: CacheOptions<V> = {}): Cache<V> {
  const created: Array<() => unknown> = [];
  try {
    return buildCache(options, created);
  } catch (error) {
    // A later option was bad: release what the earlier ones already started (timers, links).
    for (const release of created.reverse()) {
      try {
        void release();
      } catch {
        // Best effort; the construction error is the one to report.
      }
    }
    throw error;
  }
}

function buildCache<V>(options: CacheOptions<V>, created: Array<() => unknown>): Cache<V> {
  const o = resolveCacheOptions(options);
  const { clock, random, namespace } = o;
  const defaults = o.entry;
  const prefix = namespace === undefined ? '' : `${namespace}:`;
  const maxKeyLength = DEFAULT_MAX_KEY_LENGTH - prefix.length;

  const hotKeys = options.hotKeys;
  let detector: HotKeyDetector | undefined;
  let ownDetector = false;
  if (hotKeys !== undefined && hotKeys !== false) {
    if (typeof hotKeys === 'object' && typeof (hotKeys as HotKeyDetector).record === 'function') {
      detector = hotKeys as HotKeyDetector;
    } else {
      const made = createHotKeyDetector({ clock, ...(hotKeys === true ? {} : hotKeys) });
      created.push(() => made.close());
      detector = made;
      ownDetector = true;
    }
  }

  // --- tiers -------------------------------------------------------------------------------
  const ownL2 = options.l2 === undefined;
  const l2: CacheStore<V> = options.l2 ?? createEmbeddedStore<V>({ clock });
  if (ownL2) created.push(() => l2.close().catch(noop));
  if (typeof l2.get !== 'function' || typeof l2.set !== 'function' || typeof l2.delete !== 'function') {
    throw new InvalidOptionError(`[dc:${SCOPE}] \`l2\` must be a CacheStore, got ${describeValue(l2)}`);
  }
  // Our own id on the bus, so our handler can tell our messages from other instances'.
  const instanceId = randomUUID();
  let l1: L1Store<unknown> | undefined;
  let ownLink: InvalidationLink | undefined;
  let ownL1 = false;
  // The L1's TTL cap, when known (an L1 passed in may have any).
  let l1CapMs: number | undefined;
  let l1ClockResolutionMs = 0;
  if (options.l1 !== false) {
    const given = options.l1;
    if (given !== undefined && typeof (given as L1Store<V>).getSync === 'function') {
      l1 = given as unknown as L1Store<unknown>;
      if (options.bus !== undefined) {
        const link = attachInvalidationBus(l1, options.bus, { namespace, instanceId });
        created.push(() => link.detach().catch(noop));
        ownLink = link;
      }
    } else {
      const l1Options = { clock, ...(given as L1StoreOptions<unknown> | undefined) };
      if (options.bus !== undefined) l1Options.invalidation = { bus: options.bus, namespace, instanceId };
      const made = createL1Store<unknown>(l1Options);
      created.push(() => made.close().catch(noop));
      l1 = made;
      const resolvedL1 = resolveL1StoreOptions(l1Options);
      l1CapMs = resolvedL1.defaultTtlMs;
      l1ClockResolutionMs = resolvedL1.clockResolutionMs;
      ownL1 = true;
    }
  }
  // The L1 hit path's freshness check reuses one clock reading per `clockResolutionMs`, as the
  // L1 we made does; a deadline within `guardMs` of that reading is checked exactly.
  const coarse =
    l1ClockResolutionMs > 0 ? createCoarseClock({ clock, resolutionMs: l1ClockResolutionMs }) : undefined;
  if (coarse !== undefined) created.push(() => coarse.close());
  const guardMs = coarse === undefined ? 0 : coarse.guardMs;
  /** `clock.now() < until`, mostly without reading the clock. */
  const before = (until: number): boolean =>
    (coarse !== undefined && until - coarse.now() > guardMs) || clock.now() < until;
  const syncL2 = isEmbeddedStore(l2) && isSyncCacheStore(l2) ? l2 : undefined;

  // --- events and counters -----------------------------------------------------------------
  const listeners = new Map<CacheEventName, Set<(payload: never) => void>>();
  let hitListeners = 0;
  const emit = <E extends CacheEventName>(event: E, payload: CacheEventMap[E]): void => {
    const set = listeners.get(event);
    if (set === undefined) return;
    for (const listener of set) {
      try {
        (listener as CacheEventListener<E>)(payload);
      } catch {
        // A listener's failure must not become the caller's.
      }
    }
  };

  let l1Hits = 0;
  let l2Hits = 0;
  let staleHits = 0;
  let misses = 0;
  let loads = 0;
  let coalesced = 0;
  let earlyRefreshes = 0;
  let staleRefreshes = 0;
  let loadErrors = 0;
  let sets = 0;
  let deletes = 0;
  let closed = false;
  let closing: Promise<void> | undefined;

  const gateway = new L2Gateway<V>({
    store: l2,
    sync: syncL2 as (CacheStore<V> & SyncCacheStore<V>) | undefined,
    timeoutMs: o.l2TimeoutMs,
    failMode: o.failMode,
    autoRecoveryMs: o.autoRecoveryMs,
    maxPending: o.maxPendingWrites,
    clock,
    hooks: {
      onError: (op, key, error, timedOut) =>
        emit('store:error', {
          key: key === undefined ? undefined : key.slice(prefix.length),
          op,
          timedOut,
          error,
        }),
      onRecovered: (l2Key) => {
        const key = l2Key.slice(prefix.length);
        // Other instances may have refilled their L1 from the older L2 value meanwhile.
        try {
          l1?.deleteSync(key);
        } catch {
          // Closed meanwhile: nothing to invalidate.
        }
        emit('store:recovered', { key });
      },
    },
  });

  // --- per-call options ---------------------------------------------------------------------
  // Only a frozen object can be remembered: a mutable one may change between calls.
  const resolvedCalls = new WeakMap<object, ResolvedEntryOptions>();
  const callOptions = (given: CacheEntryOptions | undefined): ResolvedEntryOptions => {
    if (given === undefined) return defaults;
    let resolved = resolvedCalls.get(given);
    if (resolved === undefined) {
      resolved = resolveEntryOptions(given, options);
      if (Object.isFrozen(given)) resolvedCalls.set(given, resolved);
    }
    return resolved;
  };

  const checkKey = (key: unknown): void => {
    if (closed) throw new ClosedError(`[dc:${SCOPE}] cache is closed`);
    assertValidKey(key, SCOPE, maxKeyLength);
  };

  const hit = (key: string, tier: CacheTier, stale: boolean): void => {
    if (tier === 'l1') l1Hits++;
    else l2Hits++;
    if (stale) staleHits++;
    if (hitListeners > 0) emit('cache:hit', { key, tier, stale });
  };

  const admit = (key: string): boolean => detector === undefined || detector.isHot(key);

  /**
   * Read after the L1 stored `hot`: the L1 keeps it until at most its own clock at that moment
   * plus `l1CapMs`, so if that is before `freshUntil`, every L1 hit of it is fresh.
   */
  const settleHot = (hot: HotEntry<V>): void => {
    if (l1CapMs !== undefined && clock.now() + l1CapMs <= hot.freshUntil) hot.checkClock = false;
  };

  const fillL1 = (
    key: string,
    entry: CacheEntry<unknown>,
    token: number | undefined,
    e: ResolvedEntryOptions,
  ): void => {
    if (l1 === undefined || !admit(key)) return;
    try {
      const hot = toHotEntry<V>(entry, e.earlyRecompute, e.beta);
      if (l1.fillSync(key, hot, token)) settleHot(hot);
    } catch (error) {
      emit('cache:error', { key, phase: 'l1', error });
    }
  };

  // --- loads ----------------------------------------------------------------------------------
  const flights = new Map<string, Flight<V>>();
  // Every load still running, including those detached from `flights` by a write.
  const running = new Set<Flight<V>>();
  // Keys whose background refresh failed → when to try again (oldest first, all with the same
  // backoff, so expired ones sit at the front).
  const retryAt = new Map<string, number>();
  const backOff = (key: string): void => {
    const now = clock.now();
    for (const [oldKey, until] of retryAt) {
      if (until > now) break;
      retryAt.delete(oldKey);
    }
    retryAt.delete(key);
    retryAt.set(key, now + o.refreshBackoffMs);
  };

  const markChanged = (key: string): void => {
    const flight = flights.get(key);
    if (flight === undefined) return;
    // Later callers start a fresh load; this one may finish but stores nothing.
    flight.dirty = true;
    flights.delete(key);
  };
  const markAllChanged = (): void => {
    for (const flight of flights.values()) flight.dirty = true;
    flights.clear();
  };
  // L2 writes of loaded values in the last `RETRACT_WINDOW_MS`: key → [written at, entry's staleAt].
  const recentFills = new Map<string, readonly [number, number]>();
  const noteFill = (key: string, staleAt: number): void => {
    const now = clock.now();
    recentFills.delete(key);
    recentFills.set(key, [now, staleAt]);
    for (const [oldKey, [at]] of recentFills) {
      if (now - at <= RETRACT_WINDOW_MS) break;
      recentFills.delete(oldKey);
    }
  };
  /**
   * Another instance changed `key`. A value this instance loaded and wrote to L2 shortly before
   * may have been read from the source before that change and landed in L2 after it (the
   * cache-aside race, FAULTS D4): if L2 still holds that very entry, take it out and tell the
   * other L1s. (Check-then-delete is not atomic: at worst a newer value is removed, one miss.)
   */
  const retract = (key: string): void => {
    const fill = recentFills.get(key);
    if (fill === undefined) return;
    recentFills.delete(key);
    if (clock.now() - fill[0] > RETRACT_WINDOW_MS || closed) return;
    Promise.resolve(gateway.get(prefix + key))
      .then((current) => {
        if (current === undefined || current.staleAt !== fill[1] || closed) return;
        return gateway.delete(prefix + key).then(() => invalidateL1(key));
      })
      .catch(noop);
  };
  const unsubscribeBus = options.bus?.subscribe((message) => {
    if (message.origin === instanceId) return;
    if (message.namespace !== namespace && !(message.clear === true && message.namespace === undefined))
      return;
    if (message.clear === true) {
      markAllChanged();
      recentFills.clear();
      for (const key of writes.keys()) supersedeWrite(key);
    }
    for (const key of message.keys ?? []) {
      markChanged(key);
      supersedeWrite(key);
      retract(key);
    }
  });
  if (unsubscribeBus !== undefined) created.push(unsubscribeBus);

  const callLoader = (key: string, loader: CacheLoader<V>, hardTimeoutMs: number | undefined): Promise<V> =>
    loadWithTimeout(key, loader, { hardTimeoutMs, clock, optionName: 'hardTimeout', scope: SCOPE });

  const buildEntry = (
    value: unknown,
    e: ResolvedEntryOptions,
    deltaMs: number | undefined,
  ): CacheEntry<unknown> => {
    const negative = value === undefined;
    const baseTtl = negative ? (e.negativeTtlMs as number) : e.ttlMs;
    const ttlMs = e.jitter === 0 ? baseTtl : jitterTtl(baseTtl, { ratio: e.jitter, random });
    return createEntry(negative ? NEGATIVE_MARKER : value, {
      now: clock.now(),
      ttlMs,
      graceMs: negative ? 0 : e.graceMs,
      ...(deltaMs === undefined ? {} : { deltaMs }),
    });
  };

  /** Under the lock: another process may have stored a newer entry while this one waited. */
  const loadUnderLock = async (
    key: string,
    loader: CacheLoader<V>,
    e: ResolvedEntryOptions,
    flight: Flight<V>,
    current: CacheEntry<unknown> | undefined,
    background: boolean,
  ): Promise<V | undefined> => {
    const lock = options.lock as NonNullable<CacheOptions<V>['lock']>;
    let token: LockToken | null;
    const l1Token = l1?.beginFill();
    try {
      token = await lock.acquire(`lock:${prefix}${key}`, {
        ttlMs: o.lockTtlMs,
        waitMs: current === undefined ? o.lockWaitMs : 0,
      });
    } catch (error) {
      emit('cache:error', { key, phase: 'lock', error });
      return loadAndStore(key, loader, e, flight, background);
    }
    try {
      const latest = await gateway.get(prefix + key);
      const now = clock.now();
      if (
        latest !== undefined &&
        now < latest.expiresAt &&
        (current === undefined ? now < latest.staleAt : latest.staleAt > current.staleAt)
      ) {
        if (!flight.dirty) fillL1(key, latest, l1Token, e);
        return visibleValue<V>(latest);
      }
      // Another process holds the lock and is refreshing: keep serving what we have.
      if (token === null && current !== undefined) return visibleValue<V>(current);
      return await loadAndStore(key, loader, e, flight, background);
    } finally {
      if (token !== null)
        lock.release(token).catch((error: unknown) => emit('cache:error', { key, phase: 'lock', error }));
    }
  };

  const loadAndStore = async (
    key: string,
    loader: CacheLoader<V>,
    e: ResolvedEntryOptions,
    flight: Flight<V>,
    background: boolean,
  ): Promise<V | undefined> => {
    const token = l1?.beginFill();
    const startedAt = clock.now();
    let value: V;
    try {
      value = await callLoader(key, loader, e.hardTimeoutMs);
    } finally {
      loads++;
      emit('cache:load', { key, durationMs: clock.now() - startedAt, background });
    }
    if (flight.dirty || closed) return value;
    if (value === undefined && e.negativeTtlMs === undefined) return value;
    const entry = buildEntry(value, e, Math.max(0, clock.now() - startedAt));
    if (options.bus !== undefined) noteFill(key, entry.staleAt);
    try {
      await gateway.set(prefix + key, entry as CacheEntry<V>, false);
    } catch (error) {
      if (isDcError(error, 'E_SERIALIZATION')) {
        // Nothing half-written: the caller gets the value, no tier keeps it.
        emit('cache:error', { key, phase: 'value', error });
        return value;
      }
      throw error;
    }
    if (!flight.dirty) fillL1(key, entry, token, e);
    return value;
  };

  const startLoad = (
    key: string,
    loader: CacheLoader<V>,
    e: ResolvedEntryOptions,
    current: CacheEntry<unknown> | undefined,
  ): Flight<V> => {
    const existing = flights.get(key);
    if (existing !== undefined) {
      coalesced++;
      return existing;
    }
    const background = current !== undefined;
    const flight: Flight<V> = {
      promise: undefined as never,
      dirty: false,
      soft: undefined,
      softTimer: undefined,
    };
    flights.set(key, flight);
    running.add(flight);
    flight.promise = (async () => {
      try {
        const value =
          options.lock === undefined
            ? await loadAndStore(key, loader, e, flight, background)
            : await loadUnderLock(key, loader, e, flight, current, background);
        retryAt.delete(key);
        return value;
      } catch (error) {
        loadErrors++;
        // Only refreshes back off: they have a stale value to serve meanwhile; a miss retries.
        if (background && o.refreshBackoffMs > 0) backOff(key);
        emit('cache:error', { key, phase: background ? 'refresh' : 'load', error });
        throw error;
      } finally {
        flight.softTimer?.cancel();
        if (flights.get(key) === flight) flights.delete(key);
        running.delete(flight);
      }
    })();
    // A background refresh may have no caller left to see its failure (it went to the event).
    flight.promise.catch(noop);
    return flight;
  };

  const waitSoft = async (
    flight: Flight<V>,
    stale: CacheEntry<unknown>,
    softTimeoutMs: number,
  ): Promise<V> => {
    flight.soft ??= new Promise<typeof SOFT_TIMEOUT>((resolve) => {
      flight.softTimer = clock.setTimer(() => resolve(SOFT_TIMEOUT), softTimeoutMs);
    });
    try {
      const result = await Promise.race([flight.promise, flight.soft]);
      if (result !== SOFT_TIMEOUT) return result as V;
    } catch {
      // The refresh failed (reported as an event): within grace the stale value still answers.
    }
    return visibleValue<V>(stale) as V;
  };

  /** Stale value in hand: serve it, wait `softTimeout` for the refresh, or fall back to it on a failed one. */
  const serveStale = (
    key: string,
    loader: CacheLoader<V>,
    e: ResolvedEntryOptions,
    entry: CacheEntry<unknown>,
  ): V | Promise<V> => {
    const until = retryAt.get(key);
    if (until !== undefined) {
      if (clock.now() < until) return visibleValue<V>(entry) as V;
      retryAt.delete(key);
    }
    if (!flights.has(key)) staleRefreshes++;
    const flight = startLoad(key, loader, e, entry);
    if (e.softTimeoutMs === undefined) return visibleValue<V>(entry) as V;
    return waitSoft(flight, entry, e.softTimeoutMs);
  };

  const decide = (
    key: string,
    loader: CacheLoader<V>,
    e: ResolvedEntryOptions,
    entry: CacheEntry<unknown> | undefined,
    tier: CacheTier,
  ): V | Promise<V> => {
    const now = clock.now();
    if (entry === undefined || now >= entry.expiresAt) {
      misses++;
      emit('cache:miss', { key });
      const flight = startLoad(key, loader, e, undefined);
      return flight.promise as Promise<V>;
    }
    if (now >= entry.staleAt) {
      hit(key, tier, true);
      return serveStale(key, loader, e, entry);
    }
    hit(key, tier, false);
    if (
      e.earlyRecompute &&
      // Only a measured duration: an entry from a foreign writer may carry anything.
      typeof entry.deltaMs === 'number' &&
      entry.deltaMs > 0 &&
      Number.isFinite(entry.deltaMs) &&
      !flights.has(key) &&
      shouldRecomputeEarly({
        nowMs: now,
        expiresAt: entry.staleAt,
        deltaMs: entry.deltaMs,
        beta: e.beta,
        random: () => 1 - random(),
      })
    ) {
      const until = retryAt.get(key);
      if (until === undefined || now >= until) {
        earlyRefreshes++;
        startLoad(key, loader, e, entry);
      }
    }
    return visibleValue<V>(entry) as V;
  };

  /** L1 missed or held a stale copy: consult L2 (synchronously for the embedded one). */
  const slowGetOrSet = (
    key: string,
    loader: CacheLoader<V>,
    e: ResolvedEntryOptions,
    l1Entry: CacheEntry<unknown> | undefined,
  ): V | Promise<V> => {
    if (l1Entry !== undefined && clock.now() < l1Entry.staleAt) return decide(key, loader, e, l1Entry, 'l1');
    detector?.record(key);
    const token = l1?.beginFill();
    const read = gateway.get(prefix + key);
    const after = (found: CacheEntry<V> | undefined): V | Promise<V> => {
      // A stale L1 copy is still better than nothing if L2 has nothing newer.
      if (found === undefined || (l1Entry !== undefined && found.staleAt <= l1Entry.staleAt)) {
        return decide(key, loader, e, l1Entry, 'l1');
      }
      fillL1(key, found, token, e);
      return decide(key, loader, e, found, 'l2');
    };
    return read instanceof Promise ? read.then(after) : after(read);
  };

  const source = options.dataSource;
  const sourceLoader: CacheLoader<V> | undefined =
    source === undefined ? undefined : (key) => source.load(key) as Promise<V>;

  const getOrSet = (key: string, loader?: CacheLoader<V>, given?: CacheEntryOptions): Promise<V> => {
    try {
      const e = given === undefined ? defaults : callOptions(given);
      const load = loader ?? sourceLoader;
      if (typeof load !== 'function') {
        throw new InvalidOptionError(
          `[dc:${SCOPE}] \`loader\` must be a function (or pass a \`dataSource\` to createCache), got ${describeValue(loader)}`,
        );
      }
      if (l1 !== undefined) {
        const entry = l1.getSync(key) as HotEntry<V> | undefined;
        if (entry !== undefined && (!entry.checkClock || before(entry.freshUntil))) {
          l1Hits++;
          if (hitListeners > 0) emit('cache:hit', { key, tier: 'l1', stale: false });
          return entry.promise as Promise<V>;
        }
        if (key.length > maxKeyLength) checkKey(key);
        const result = slowGetOrSet(key, load, e, entry);
        return result instanceof Promise ? result : Promise.resolve(result);
      }
      checkKey(key);
      const result = slowGetOrSet(key, load, e, undefined);
      return result instanceof Promise ? result : Promise.resolve(result);
    } catch (error) {
      return Promise.reject(error);
    }
  };

  const slowGet = (
    key: string,
    l1Entry: CacheEntry<unknown> | undefined,
  ): V | undefined | Promise<V | undefined> => {
    detector?.record(key);
    const token = l1?.beginFill();
    const read = gateway.get(prefix + key);
    const after = (found: CacheEntry<V> | undefined): V | undefined => {
      const now = clock.now();
      if (found !== undefined && now < found.expiresAt) fillL1(key, found, token, defaults);
      if (found !== undefined && now < found.staleAt) {
        hit(key, 'l2', false);
        return visibleValue<V>(found);
      }
      if (l1Entry !== undefined && now < l1Entry.staleAt) {
        hit(key, 'l1', false);
        return visibleValue<V>(l1Entry);
      }
      misses++;
      emit('cache:miss', { key });
      return undefined;
    };
    return read instanceof Promise ? read.then(after) : after(read);
  };

  const get = (key: string): Promise<V | undefined> => {
    try {
      if (l1 !== undefined) {
        const entry = l1.getSync(key) as HotEntry<V> | undefined;
        if (entry !== undefined && (!entry.checkClock || before(entry.staleAt))) {
          l1Hits++;
          if (hitListeners > 0) emit('cache:hit', { key, tier: 'l1', stale: false });
          return entry.promise;
        }
        if (key.length > maxKeyLength) checkKey(key);
        const result = slowGet(key, entry);
        return result instanceof Promise ? result : Promise.resolve(result);
      }
      checkKey(key);
      const result = slowGet(key, undefined);
      return result instanceof Promise ? result : Promise.resolve(result);
    } catch (error) {
      return Promise.reject(error);
    }
  };

  // --- writes ---------------------------------------------------------------------------------
  // The latest write per key: L2 answers may arrive out of order, L1 must end with the last write.
  const writes = new Map<string, { latest: number; active: number }>();
  let writeCounter = 0;
  const beginWrite = (key: string): number => {
    const seq = ++writeCounter;
    const record = writes.get(key);
    if (record === undefined) writes.set(key, { latest: seq, active: 1 });
    else {
      record.latest = seq;
      record.active++;
    }
    return seq;
  };
  /** True when nothing else changed `key` (a later local write, a remote one) after `seq`. */
  const endWrite = (key: string, seq: number): boolean => {
    const record = writes.get(key);
    if (record === undefined) return false;
    if (--record.active === 0) writes.delete(key);
    return record.latest === seq;
  };
  /** Another instance changed `key` while a local write of it was in flight. */
  const supersedeWrite = (key: string): void => {
    const record = writes.get(key);
    if (record !== undefined) record.latest = ++writeCounter;
  };

  /** L2 first, then L1 (which publishes the invalidation on the bus). */
  const writeTiers = async (
    key: string,
    entry: CacheEntry<unknown>,
    e: ResolvedEntryOptions,
  ): Promise<void> => {
    markChanged(key);
    recentFills.delete(key);
    const seq = beginWrite(key);
    try {
      await gateway.set(prefix + key, entry as CacheEntry<V>, true);
    } catch (error) {
      // Fail-closed: the write may or may not have landed; the older L1 copy must go either way.
      if (!isDcError(error, 'E_SERIALIZATION')) invalidateL1(key);
      throw error;
    } finally {
      markChanged(key);
    }
    const latest = endWrite(key, seq);
    if (l1 === undefined) return;
    if (!latest) {
      // The key changed again meanwhile (here or elsewhere) and L2 answers may come back in any
      // order: this value may not be the newest, so no L1 may keep any copy; the bus tells them.
      invalidateL1(key);
      return;
    }
    try {
      if (admit(key)) {
        const hot = toHotEntry<V>(entry, e.earlyRecompute, e.beta);
        l1.setSync(key, hot);
        settleHot(hot);
      } else l1.deleteSync(key);
    } catch (error) {
      // L1 refused (too large): it dropped the older copy and told the bus; L2 has the value.
      emit('cache:error', { key, phase: 'l1', error });
    }
  };

  const invalidateL1 = (key: string): boolean => {
    try {
      return l1?.deleteSync(key) ?? false;
    } catch {
      return false;
    }
  };

  const deleteTiers = async (key: string): Promise<boolean> => {
    markChanged(key);
    recentFills.delete(key);
    const seq = beginWrite(key);
    let removed = false;
    try {
      removed = await gateway.delete(prefix + key);
    } finally {
      // Fail-closed included: the delete may have landed, so the L1 copy goes either way.
      markChanged(key);
      endWrite(key, seq);
      if (invalidateL1(key)) removed = true;
    }
    return removed;
  };

  const tierStore: CacheStore<V> = {
    name: 'cache-tiers',
    get: async (key) => {
      const entry = l1?.getSync(key) ?? (await gateway.get(prefix + key));
      return entry === undefined ? undefined : ({ ...entry, value: visibleValue<V>(entry) } as CacheEntry<V>);
    },
    set: (key, entry) => writeTiers(key, entry, defaults),
    delete: (key) => deleteTiers(key),
    clear: () => clear(),
    close: async () => {},
    getMany: (keys) => Promise.all(keys.map((key) => tierStore.get(key))),
    setMany: async (entries) => {
      for (const [key, entry] of entries) await writeTiers(key, entry, defaults);
    },
    deleteMany: async (keys) => {
      let removed = 0;
      for (const key of keys) if (await deleteTiers(key)) removed++;
      return removed;
    },
  };
  let strategy: WriteThrough<V> | WriteBehind<V> | undefined;
  if (o.writeMode !== 'cache-aside') {
    const dataSource = options.dataSource as NonNullable<CacheOptions<V>['dataSource']>;
    const common = {
      store: tierStore,
      dataSource,
      ttlMs: defaults.ttlMs,
      graceMs: defaults.graceMs,
      clock,
      onCacheError: o.failMode === 'open' ? ('ignore' as const) : ('throw' as const),
    };
    strategy =
      o.writeMode === 'write-through'
        ? createWriteThrough<V>(common)
        : createWriteBehind<V>({ ...options.writeBehind, ...common });
  }

  const set = async (key: string, value: V, given?: CacheEntryOptions): Promise<void> => {
    checkKey(key);
    if (value === undefined) {
      throw new InvalidOptionError(
        `[dc:${SCOPE}] cannot set ${describeValue(key)} to undefined; use delete()`,
      );
    }
    if (strategy !== undefined) {
      if (given !== undefined) {
        throw new InvalidOptionError(
          `[dc:${SCOPE}] per-call options are not supported with \`writeMode: '${o.writeMode}'\`; set \`ttl\`/\`grace\` on createCache`,
        );
      }
      options.serializer?.encode(value);
      await strategy.set(key, value);
      sets++;
      return;
    }
    const e = callOptions(given);
    options.serializer?.encode(value);
    const entry = buildEntry(value, e, undefined);
    await writeTiers(key, entry, e);
    sets++;
  };

  const del = async (key: string): Promise<boolean> => {
    checkKey(key);
    if (strategy !== undefined) {
      const had = (await tierStore.get(key)) !== undefined;
      await strategy.delete(key);
      if (had) deletes++;
      return had;
    }
    const removed = await deleteTiers(key);
    if (removed) deletes++;
    return removed;
  };

  const deleteMany = async (keys: readonly string[]): Promise<number> => {
    if (!Array.isArray(keys)) {
      throw new InvalidOptionError(`[dc:${SCOPE}] \`keys\` must be an array, got ${describeValue(keys)}`);
    }
    for (const key of keys) checkKey(key);
    if (keys.length === 0) return 0;
    if (strategy !== undefined) {
      let removed = 0;
      for (const key of keys) if (await del(key)) removed++;
      return removed;
    }
    for (const key of keys) markChanged(key);
    let removed = 0;
    try {
      removed = await gateway.deleteMany(keys.map((key) => prefix + key));
    } finally {
      for (const key of keys) markChanged(key);
      if (l1 !== undefined) await l1.deleteMany(keys).catch(noop);
    }
    deletes += removed;
    return removed;
  };

  const clear = async (): Promise<void> => {
    if (closed) throw new ClosedError(`[dc:${SCOPE}] cache is closed`);
    markAllChanged();
    try {
      await gateway.clear();
    } finally {
      markAllChanged();
      try {
        l1?.clearSync();
      } catch {
        // Closed meanwhile.
      }
    }
  };

  const settle = async (): Promise<void> => {
    for (let round = 0; running.size > 0 && round < 1_000; round++) {
      await Promise.allSettled(Array.from(running, (flight) => flight.promise));
    }
  };

  return {
    namespace,
    l1: l1 as L1Store<V> | undefined,
    l2,
    get,
    getSync(key) {
      if (l1 === undefined) {
        checkKey(key);
        return undefined;
      }
      const entry = l1.getSync(key) as HotEntry<V> | undefined;
      if (entry === undefined || (entry.checkClock && !before(entry.staleAt))) return undefined;
      l1Hits++;
      if (hitListeners > 0) emit('cache:hit', { key, tier: 'l1', stale: false });
      // A HotEntry knows whether it is a cached "not found"; anything else is checked.
      return entry.negative === false ? (entry.value as V) : visibleValue<V>(entry);
    },
    getOrSet,
    set,
    delete: del,
    deleteMany,
    has: async (key) => (await get(key)) !== undefined,
    clear,
    settle,
    close() {
      if (closing) return closing;
      closing = (async () => {
        if (strategy !== undefined) await strategy.close();
        closed = true;
        coarse?.close();
        gateway.close();
        unsubscribeBus?.();
        await ownLink?.detach();
        if (ownL1) await l1?.close();
        if (ownL2) await l2.close();
        if (ownDetector) detector?.close();
      })();
      return closing;
    },
    stats: () => {
      const l1Stats = l1?.stats();
      return {
        hits: l1Hits + l2Hits,
        l1Hits,
        l2Hits,
        staleHits,
        misses,
        loads,
        coalesced,
        earlyRefreshes,
        staleRefreshes,
        loadErrors,
        l2Errors: gateway.errors,
        l2Timeouts: gateway.timeouts,
        sets,
        deletes,
        pendingL2Writes: gateway.pendingCount,
        recoveredL2Writes: gateway.recovered,
        inFlight: running.size,
        l1Size: l1Stats?.size ?? 0,
        l1Evictions: l1Stats?.evictions ?? 0,
        l1Expirations: l1Stats?.expirations ?? 0,
        l1Invalidations: l1Stats?.invalidations ?? 0,
      };
    },
    on(event, listener) {
      if (typeof listener !== 'function') {
        throw new InvalidOptionError(
          `[dc:${SCOPE}] a listener must be a function, got ${describeValue(listener)}`,
        );
      }
      let set = listeners.get(event);
      if (set === undefined) {
        set = new Set();
        listeners.set(event, set);
      }
      const added = !set.has(listener as never);
      set.add(listener as never);
      if (added && event === 'cache:hit') hitListeners++;
      let active = true;
      return () => {
        if (!active) return;
        active = false;
        if ((listeners.get(event) as Set<unknown>).delete(listener) && event === 'cache:hit') hitListeners--;
      };
    },
  };
}
