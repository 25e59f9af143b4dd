import type { CacheStore, Clock, DataSource, Duration, Random, Serializer } from '@dc/core';
import {
  assertInteger,
  assertOneOf,
  describeValue,
  InvalidOptionError,
  parseDuration,
  systemClock,
} from '@dc/core';
import type { HotKeyDetector, HotKeyDetectorOptions } from '@dc/hotkeys';
import type { InvalidationBus, L1Store, L1StoreOptions } from '@dc/l1';
import type { DistributedLock } from '@dc/stampede';
import type { WriteBehindOptions } from '@dc/strategies';

const SCOPE = 'cache';

/** What to do when L2 fails or is slower than `l2Timeout`. */
export type FailMode = 'open' | 'closed';

/** How writes reach the `dataSource`. */
export type WriteMode = 'cache-aside' | 'write-through' | 'write-behind';

/** The allowed {@link FailMode} values. */
export const FAIL_MODES: readonly FailMode[] = ['open', 'closed'];
/** The allowed {@link WriteMode} values. */
export const WRITE_MODES: readonly WriteMode[] = ['cache-aside', 'write-through', 'write-behind'];

/**
 * Options that apply per entry: defaults on `createCache`, overridable per `getOrSet`/`set` call.
 * Durations are milliseconds (a number) or strings such as `'150ms'`, `'5s'`, `'10m'`, `'1h'`.
 */
export interface CacheEntryOptions {
  /** How long a value stays fresh. @default '5m' */
  ttl?: Duration;
  /** How long past `ttl` a stale value may still be served while one refresh runs. @default 0 */
  grace?: Duration;
  /** Spread each TTL by ±ratio, in [0, 1), so keys written together do not expire together. @default 0 */
  jitter?: number;
  /** Refresh fresh entries early with XFetch, using each load's measured duration. @default true */
  earlyRecompute?: boolean;
  /** XFetch eagerness (> 0; > 1 refreshes earlier). @default 1 */
  beta?: number;
  /**
   * With a stale value in hand, wait at most this long for its refresh, then answer with the
   * stale value (the refresh goes on in the background). Unset: stale values are answered at once.
   * @default undefined
   */
  softTimeout?: Duration;
  /**
   * Give up on a loader after this long: callers with no stale value reject with
   * `LoaderTimeoutError` (`E_LOADER_TIMEOUT`); the loader's `signal` is aborted. @default undefined
   */
  hardTimeout?: Duration;
  /**
   * Cache a loader's `undefined` ("not found") for this long. Unset or `false`: `undefined` is
   * never cached. Errors are never cached. @default false
   */
  negativeTtl?: Duration | false;
}

/** Options for `createCache`. */
export interface CacheOptions<V = unknown> extends CacheEntryOptions {
  /**
   * The in-process tier: options for `createL1Store`, an `L1Store` you made, or `false` for none.
   * @default {} (an L1 with `@dc/l1`'s defaults: 10,000 entries, 2 s TTL cap)
   */
  l1?: L1StoreOptions<V> | L1Store<V> | false;
  /**
   * The shared tier, any `CacheStore` (for Redis: `createRedisStore` from `@dc/redis-adapter`).
   * Unset: the embedded default, an in-process store (`createEmbeddedStore`). Stays open on `close()`
   * when you pass it in. @default createEmbeddedStore()
   */
  l2?: CacheStore<V>;
  /** Keeps the L1 of every instance coherent: a write or delete here evicts the key elsewhere. @default undefined */
  bus?: InvalidationBus;
  /** One load per key across processes (`DistributedLock` from `@dc/stampede` or the Redis adapter). @default undefined */
  lock?: DistributedLock;
  /** Lifetime of the lock taken around a load; longer than the slowest loader. @default '10s' */
  lockTtl?: Duration;
  /** How long a miss waits for another process's load before loading itself. @default '5s' */
  lockWait?: Duration;
  /**
   * Prefix of every L2 key (`<namespace>:<key>`) and scope of bus messages. No `:` allowed in it,
   * which keeps the mapping injective (`a` + `b:c` can never meet `a:b` + `c`). @default undefined
   */
  namespace?: string;
  /**
   * An L2 call slower than this counts as failed (`store:error`, `stats().l2Timeouts`). Not applied
   * to the embedded L2, which is in-process. @default '250ms'
   */
  l2Timeout?: Duration;
  /**
   * `'open'`: a failed or slow L2 read is a miss and a failed L2 write is queued for recovery; the
   * caller never sees it. `'closed'`: the call rejects with `CacheUnavailableError`
   * (`E_STORE_UNAVAILABLE`). @default 'open'
   */
  failMode?: FailMode;
  /**
   * Fail-open only: how often L2 writes that failed are retried (latest value per key), after
   * which the key is invalidated on every instance. `false`: failed writes are dropped.
   * @default '1s'
   */
  autoRecovery?: Duration | false;
  /** Fail-open only: most keys waiting for recovery; beyond it the oldest is dropped. @default 10000 */
  maxPendingWrites?: number;
  /** After a failed refresh, serve the stale value without retrying for this long. @default '1s' */
  refreshBackoff?: Duration;
  /**
   * Keep only hot keys in L1: `true` (detector defaults), detector options, or a
   * `HotKeyDetector` from `@dc/hotkeys`. Every L2 read is recorded; only keys the detector calls
   * hot are filled into L1. Unset: every key read is filled into L1. @default undefined
   */
  hotKeys?: boolean | HotKeyDetectorOptions | HotKeyDetector;
  /** The system of record, for `writeMode` and for `getOrSet(key)` without a loader. @default undefined */
  dataSource?: DataSource<V>;
  /**
   * With a `dataSource`: `'cache-aside'` (`set` writes the cache only), `'write-through'` (`set`
   * writes the source, then the cache) or `'write-behind'` (cache now, source in batches), using
   * `@dc/strategies`. @default 'cache-aside'
   */
  writeMode?: WriteMode;
  /** Extra options of the write-behind strategy (`batchSize`, `flushIntervalMs`, `queue`, …). @default {} */
  writeBehind?: Omit<WriteBehindOptions<V>, 'store' | 'dataSource' | 'ttlMs' | 'graceMs' | 'clock'>;
  /** Checks values on `set` before any I/O (`E_SERIALIZATION` for a value it cannot encode). @default undefined */
  serializer?: Serializer;
  /** Time source of TTLs, timeouts and timers. @default systemClock */
  clock?: Clock;
  /** Uniform random numbers in [0, 1) for jitter and XFetch. @default Math.random */
  random?: Random;
}

/** Defaults of {@link CacheOptions}. */
export const DEFAULT_CACHE_OPTIONS = Object.freeze({
  ttl: '5m' as Duration,
  grace: 0 as Duration,
  jitter: 0,
  earlyRecompute: true,
  beta: 1,
  negativeTtl: false as Duration | false,
  lockTtl: '10s' as Duration,
  lockWait: '5s' as Duration,
  l2Timeout: '250ms' as Duration,
  failMode: 'open' as FailMode,
  autoRecovery: '1s' as Duration | false,
  maxPendingWrites: 10_000,
  refreshBackoff: '1s' as Duration,
  writeMode: 'cache-aside' as WriteMode,
});

/** Per-entry options in milliseconds. */
export interface ResolvedEntryOptions {
  readonly ttlMs: number;
  readonly graceMs: number;
  readonly jitter: number;
  readonly earlyRecompute: boolean;
  readonly beta: number;
  readonly softTimeoutMs: number | undefined;
  readonly hardTimeoutMs: number | undefined;
  readonly negativeTtlMs: number | undefined;
}

/** {@link CacheOptions} after defaults and validation (tiers are built by `createCache`). */
export interface ResolvedCacheOptions<V> {
  readonly entry: ResolvedEntryOptions;
  readonly namespace: string | undefined;
  readonly lockTtlMs: number;
  readonly lockWaitMs: number;
  readonly l2TimeoutMs: number;
  readonly failMode: FailMode;
  readonly autoRecoveryMs: number | undefined;
  readonly maxPendingWrites: number;
  readonly refreshBackoffMs: number;
  readonly writeMode: WriteMode;
  readonly clock: Clock;
  readonly random: Random;
  readonly options: CacheOptions<V>;
}

const ENTRY_KEYS = new Set([
  'ttl',
  'grace',
  'jitter',
  'earlyRecompute',
  'beta',
  'softTimeout',
  'hardTimeout',
  'negativeTtl',
]);
const CACHE_KEYS = new Set([
  ...ENTRY_KEYS,
  'l1',
  'l2',
  'bus',
  'lock',
  'lockTtl',
  'lockWait',
  'namespace',
  'l2Timeout',
  'failMode',
  'autoRecovery',
  'maxPendingWrites',
  'refreshBackoff',
  'hotKeys',
  'dataSource',
  'writeMode',
  'writeBehind',
  'serializer',
  'clock',
  'random',
]);

function assertKnown(options: object, known: ReadonlySet<string>, what: string): void {
  for (const name of Object.keys(options)) {
    if (!known.has(name)) {
      throw new InvalidOptionError(
        `[dc:${SCOPE}] unknown ${what} option \`${name}\`; known: ${[...known].join(', ')}`,
      );
    }
  }
}

function assertObject(value: unknown, what: string): asserts value is object {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOptionError(`[dc:${SCOPE}] ${what} must be an object, got ${describeValue(value)}`);
  }
}

function duration(value: Duration, name: string, allowZero = false): number {
  return parseDuration(value, { name, scope: SCOPE, allowZero });
}

/** Merges `overrides` over `base` and validates the result. */
export function resolveEntryOptions(
  overrides: CacheEntryOptions,
  base: CacheEntryOptions,
  what = 'call',
): ResolvedEntryOptions {
  assertObject(overrides, `${what} options`);
  assertKnown(overrides, ENTRY_KEYS, what);
  const pick = <K extends keyof CacheEntryOptions>(name: K): CacheEntryOptions[K] =>
    overrides[name] !== undefined ? overrides[name] : base[name];
  const jitter = pick('jitter') ?? DEFAULT_CACHE_OPTIONS.jitter;
  if (typeof jitter !== 'number' || !(jitter >= 0 && jitter < 1)) {
    throw new InvalidOptionError(
      `[dc:${SCOPE}] \`jitter\` must be a number in [0, 1), got ${describeValue(jitter)}`,
    );
  }
  const earlyRecompute = pick('earlyRecompute') ?? DEFAULT_CACHE_OPTIONS.earlyRecompute;
  if (typeof earlyRecompute !== 'boolean') {
    throw new InvalidOptionError(
      `[dc:${SCOPE}] \`earlyRecompute\` must be a boolean, got ${describeValue(earlyRecompute)}`,
    );
  }
  const beta = pick('beta') ?? DEFAULT_CACHE_OPTIONS.beta;
  if (typeof beta !== 'number' || !Number.isFinite(beta) || beta <= 0) {
    throw new InvalidOptionError(
      `[dc:${SCOPE}] \`beta\` must be a finite number > 0, got ${describeValue(beta)}`,
    );
  }
  const soft = pick('softTimeout');
  const hard = pick('hardTimeout');
  const negative = pick('negativeTtl') ?? DEFAULT_CACHE_OPTIONS.negativeTtl;
  return {
    ttlMs: duration(pick('ttl') ?? DEFAULT_CACHE_OPTIONS.ttl, 'ttl'),
    graceMs: duration(pick('grace') ?? DEFAULT_CACHE_OPTIONS.grace, 'grace', true),
    jitter,
    earlyRecompute,
    beta,
    softTimeoutMs: soft === undefined ? undefined : duration(soft, 'softTimeout', true),
    hardTimeoutMs: hard === undefined ? undefined : duration(hard, 'hardTimeout'),
    negativeTtlMs: negative === false ? undefined : duration(negative, 'negativeTtl'),
  };
}

/**
 * Merges {@link DEFAULT_CACHE_OPTIONS} into `options` and validates every scalar option; the
 * tiers themselves are checked by `createCache`.
 * @throws InvalidOptionError naming the first bad or unknown option.
 */
export function resolveCacheOptions<V>(options: CacheOptions<V> = {}): ResolvedCacheOptions<V> {
  assertObject(options, 'createCache options');
  assertKnown(options, CACHE_KEYS, 'createCache');
  const d = DEFAULT_CACHE_OPTIONS;
  const entryBase: CacheEntryOptions = {};
  for (const name of ENTRY_KEYS) {
    const value = (options as Record<string, unknown>)[name];
    if (value !== undefined) (entryBase as Record<string, unknown>)[name] = value;
  }
  const entry = resolveEntryOptions({}, entryBase, 'createCache');
  const { namespace } = options;
  if (
    namespace !== undefined &&
    (typeof namespace !== 'string' || namespace.length === 0 || namespace.includes(':'))
  ) {
    throw new InvalidOptionError(
      `[dc:${SCOPE}] \`namespace\` must be a non-empty string without ':', got ${describeValue(namespace)}`,
    );
  }
  const failMode = options.failMode ?? d.failMode;
  assertOneOf(failMode, FAIL_MODES, 'failMode', SCOPE);
  const writeMode = options.writeMode ?? d.writeMode;
  assertOneOf(writeMode, WRITE_MODES, 'writeMode', SCOPE);
  if (writeMode !== 'cache-aside' && options.dataSource === undefined) {
    throw new InvalidOptionError(`[dc:${SCOPE}] \`writeMode: '${writeMode}'\` needs a \`dataSource\``);
  }
  const maxPendingWrites = options.maxPendingWrites ?? d.maxPendingWrites;
  assertInteger(maxPendingWrites, 'maxPendingWrites', 1, SCOPE);
  const autoRecovery = options.autoRecovery ?? d.autoRecovery;
  const clock = options.clock ?? systemClock;
  if (
    typeof clock !== 'object' ||
    clock === null ||
    typeof clock.now !== 'function' ||
    typeof clock.setTimer !== 'function'
  ) {
    throw new InvalidOptionError(`[dc:${SCOPE}] \`clock\` must be a Clock, got ${describeValue(clock)}`);
  }
  const random = options.random ?? Math.random;
  if (typeof random !== 'function') {
    throw new InvalidOptionError(`[dc:${SCOPE}] \`random\` must be a function, got ${describeValue(random)}`);
  }
  for (const name of ['l2', 'bus', 'lock', 'dataSource', 'serializer'] as const) {
    const value = options[name];
    if (value !== undefined && (typeof value !== 'object' || value === null)) {
      throw new InvalidOptionError(
        `[dc:${SCOPE}] \`${name}\` must be an object, got ${describeValue(value)}`,
      );
    }
  }
  return {
    entry,
    namespace,
    lockTtlMs: duration(options.lockTtl ?? d.lockTtl, 'lockTtl'),
    lockWaitMs: duration(options.lockWait ?? d.lockWait, 'lockWait', true),
    l2TimeoutMs: duration(options.l2Timeout ?? d.l2Timeout, 'l2Timeout'),
    failMode,
    autoRecoveryMs: autoRecovery === false ? undefined : duration(autoRecovery, 'autoRecovery'),
    maxPendingWrites,
    refreshBackoffMs: duration(options.refreshBackoff ?? d.refreshBackoff, 'refreshBackoff', true),
    writeMode,
    clock,
    random,
    options,
  };
}
