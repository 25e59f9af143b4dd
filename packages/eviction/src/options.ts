import type { Clock, Random } from '@dc/core';
import {
  assertInteger,
  assertNonNegativeMs,
  assertOneOf,
  assertTtlMs,
  InvalidOptionError,
  systemClock,
} from '@dc/core';

/** The data structure that ranks entries for eviction. */
export type EvictionPolicy = 'lru' | 'lfu' | 'sieve' | 'tinylfu';

/**
 * Redis's `maxmemory-policy` values: which keys may be evicted (`allkeys-*` every key,
 * `volatile-*` only keys with a TTL) and how the victim is chosen.
 */
export type EvictionMode =
  | 'allkeys-lru'
  | 'volatile-lru'
  | 'allkeys-lfu'
  | 'volatile-lfu'
  | 'volatile-ttl'
  | 'allkeys-random'
  | 'volatile-random'
  | 'noeviction';

/**
 * How keys are found: `'map'` a `Map`; `'object'` a null-prototype object, which V8 looks string
 * keys up in faster but adds and deletes keys in more slowly, at more bytes per entry at some sizes.
 */
export type KeyIndexKind = 'map' | 'object';

/** Every {@link KeyIndexKind}. */
export const KEY_INDEX_KINDS: readonly KeyIndexKind[] = Object.freeze(['map', 'object']);

/** Every {@link EvictionPolicy}, in documentation order. */
export const EVICTION_POLICIES: readonly EvictionPolicy[] = Object.freeze(['lru', 'lfu', 'sieve', 'tinylfu']);

/** Every {@link EvictionMode}, in Redis's documentation order. */
export const EVICTION_MODES: readonly EvictionMode[] = Object.freeze([
  'allkeys-lru',
  'volatile-lru',
  'allkeys-lfu',
  'volatile-lfu',
  'volatile-ttl',
  'allkeys-random',
  'volatile-random',
  'noeviction',
]);

/** Options for `createMemoryStore`. At least one of `maxEntries` / `maxBytes` is required. */
export interface MemoryStoreOptions<V = unknown> {
  /** Most entries held at once (integer >= 1). @default unbounded (then `maxBytes` is required) */
  maxEntries?: number;
  /** Most bytes held at once, as measured by `sizeOf` (integer >= 1). @default unbounded */
  maxBytes?: number;
  /**
   * Size of one entry in bytes (finite, >= 0), called once per `set`. Required with `maxBytes`;
   * `set(key, value, { size })` overrides it per call.
   */
  sizeOf?: (value: V, key: string) => number;
  /**
   * The ranking structure. `lru`/`sieve` rank by recency, `lfu`/`tinylfu` by frequency.
   * @default 'lru', or 'lfu' when `mode` is `*-lfu`
   */
  policy?: EvictionPolicy;
  /**
   * Redis eviction mode: which keys may be evicted and how the victim is chosen. `*-lru` modes
   * take `policy` 'lru' or 'sieve'; `*-lfu` modes take 'lfu' or 'tinylfu' (`allkeys-lfu` only);
   * `volatile-ttl`, `*-random` and `noeviction` take no `policy`.
   * @default 'allkeys-lru' for lru/sieve, 'allkeys-lfu' for lfu/tinylfu
   */
  mode?: EvictionMode;
  /** TTL applied by `set` when it is given neither `ttlMs` nor `expiresAt` (ms, > 0). @default none */
  defaultTtlMs?: number;
  /** Source of time for expiry. @default systemClock */
  clock?: Clock;
  /** Source of randomness for sampling, random eviction and LFU counters. @default Math.random */
  random?: Random;
  /** Run the background expiry cycle, which reclaims expired keys nobody reads. @default true */
  activeExpiry?: boolean;
  /** Delay between two background expiry cycles (ms, > 0); Redis's `hz 10`. @default 100 */
  expiryIntervalMs?: number;
  /** Keys with a TTL sampled per round of a cycle (integer >= 1). @default 20 */
  expirySampleSize?: number;
  /** Most rounds in one cycle; a new round starts only while > 25% of a sample had expired. @default 16 */
  expiryMaxRounds?: number;
  /** Wall-time budget of one cycle (ms, > 0), checked between rounds. @default 2 */
  expiryCycleBudgetMs?: number;
  /** Keys sampled per eviction by the sampled modes (`volatile-ttl`, approximate LFU); Redis's `maxmemory-samples`. @default 5 */
  evictionSamples?: number;
  /**
   * The key index: `'map'` (a `Map`) or `'object'` (a null-prototype object: faster hits, but slower
   * inserts of new keys and evictions, more bytes per entry at some sizes, and integer-like keys
   * such as `'7'` iterate first; see the README's benchmarks). Any string works as a key with either.
   * @default 'map'
   */
  keyIndex?: KeyIndexKind;
  /** With `policy: 'lfu'`, use Redis's sampled 8-bit logarithmic counter instead of exact counts. @default false */
  lfuApproximate?: boolean;
  /** Redis `lfu-log-factor`: higher makes the 8-bit counter grow more slowly (>= 0). @default 10 */
  lfuLogFactor?: number;
  /**
   * Redis `lfu-decay-time` in ms: the approximate counter drops by one per elapsed period
   * (0 = never). Time is kept in whole minutes, as Redis does. @default 60000
   */
  lfuDecayTimeMs?: number;
}

/** The defaults of {@link MemoryStoreOptions}. */
export const DEFAULT_MEMORY_STORE_OPTIONS = Object.freeze({
  activeExpiry: true,
  expiryIntervalMs: 100,
  expirySampleSize: 20,
  expiryMaxRounds: 16,
  expiryCycleBudgetMs: 2,
  evictionSamples: 5,
  lfuApproximate: false,
  keyIndex: 'map' as KeyIndexKind,
  lfuLogFactor: 10,
  lfuDecayTimeMs: 60_000,
});

/** {@link MemoryStoreOptions} after defaults and validation. */
export interface ResolvedMemoryStoreOptions<V> {
  readonly maxEntries: number;
  readonly maxBytes: number;
  readonly sizeOf: ((value: V, key: string) => number) | undefined;
  readonly policy: EvictionPolicy;
  readonly mode: EvictionMode;
  readonly defaultTtlMs: number;
  readonly clock: Clock;
  readonly random: Random;
  readonly activeExpiry: boolean;
  readonly expiryIntervalMs: number;
  readonly expirySampleSize: number;
  readonly expiryMaxRounds: number;
  readonly expiryCycleBudgetMs: number;
  readonly evictionSamples: number;
  readonly lfuApproximate: boolean;
  readonly keyIndex: KeyIndexKind;
  readonly lfuLogFactor: number;
  readonly lfuDecayTimeMs: number;
}

const SCOPE = 'eviction';
const RECENCY: readonly EvictionPolicy[] = ['lru', 'sieve'];

function policyFor(mode: EvictionMode, policy: EvictionPolicy | undefined): EvictionPolicy {
  const family = mode.endsWith('-lru') ? 'lru' : mode.endsWith('-lfu') ? 'lfu' : undefined;
  if (family === undefined) {
    if (policy !== undefined) {
      throw new InvalidOptionError(
        `[dc:${SCOPE}] \`policy\` must be omitted with \`mode\` '${mode}', which chooses its own victims, got '${policy}'`,
      );
    }
    // Keeps recency order for peek-free bookkeeping; the victim rule is the mode's own.
    return 'lru';
  }
  if (policy === undefined) return family;
  const allowed: readonly EvictionPolicy[] =
    family === 'lru' ? RECENCY : mode === 'allkeys-lfu' ? ['lfu', 'tinylfu'] : ['lfu'];
  if (!allowed.includes(policy)) {
    throw new InvalidOptionError(
      `[dc:${SCOPE}] \`policy\` '${policy}' does not fit \`mode\` '${mode}'; use one of ${allowed.map((p) => `'${p}'`).join(', ')}`,
    );
  }
  return policy;
}

/**
 * Merges {@link DEFAULT_MEMORY_STORE_OPTIONS} into `options` and validates every field.
 * @throws InvalidOptionError (`E_INVALID_OPTION`) naming the first bad option.
 */
export function resolveMemoryStoreOptions<V>(options: MemoryStoreOptions<V>): ResolvedMemoryStoreOptions<V> {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError(
      `[dc:${SCOPE}] options must be an object with \`maxEntries\` or \`maxBytes\``,
    );
  }
  const o = { ...DEFAULT_MEMORY_STORE_OPTIONS, ...options };
  if (o.maxEntries === undefined && o.maxBytes === undefined) {
    throw new InvalidOptionError(
      `[dc:${SCOPE}] \`maxEntries\` or \`maxBytes\` is required: an in-memory store must be bounded`,
    );
  }
  if (o.maxEntries !== undefined) assertInteger(o.maxEntries, 'maxEntries', 1, SCOPE);
  if (o.maxBytes !== undefined) {
    assertInteger(o.maxBytes, 'maxBytes', 1, SCOPE);
    if (typeof o.sizeOf !== 'function') {
      throw new InvalidOptionError(
        `[dc:${SCOPE}] \`sizeOf\` must be a function (value, key) => bytes when \`maxBytes\` is set`,
      );
    }
  } else if (o.sizeOf !== undefined && typeof o.sizeOf !== 'function') {
    throw new InvalidOptionError(`[dc:${SCOPE}] \`sizeOf\` must be a function (value, key) => bytes`);
  }
  if (o.policy !== undefined) assertOneOf(o.policy, EVICTION_POLICIES, 'policy', SCOPE);
  if (o.mode !== undefined) assertOneOf(o.mode, EVICTION_MODES, 'mode', SCOPE);
  assertOneOf(o.keyIndex, KEY_INDEX_KINDS, 'keyIndex', SCOPE);
  const policy =
    o.mode === undefined ? (o.policy ?? 'lru') : policyFor(o.mode, o.policy as EvictionPolicy | undefined);
  const mode: EvictionMode =
    o.mode ?? (policy === 'lfu' || policy === 'tinylfu' ? 'allkeys-lfu' : 'allkeys-lru');
  if (policy === 'tinylfu' && o.maxEntries === undefined) {
    throw new InvalidOptionError(
      `[dc:${SCOPE}] \`maxEntries\` is required with \`policy\` 'tinylfu': its window and main regions are sized in entries`,
    );
  }
  if (o.defaultTtlMs !== undefined) assertTtlMs(o.defaultTtlMs, 'defaultTtlMs', SCOPE);
  const clock = o.clock ?? systemClock;
  if (typeof clock?.now !== 'function' || typeof clock.setTimer !== 'function') {
    throw new InvalidOptionError(`[dc:${SCOPE}] \`clock\` must implement now() and setTimer()`);
  }
  const random = o.random ?? Math.random;
  if (typeof random !== 'function') {
    throw new InvalidOptionError(`[dc:${SCOPE}] \`random\` must be a function returning [0, 1)`);
  }
  if (typeof o.activeExpiry !== 'boolean') {
    throw new InvalidOptionError(
      `[dc:${SCOPE}] \`activeExpiry\` must be a boolean, got ${String(o.activeExpiry)}`,
    );
  }
  if (typeof o.lfuApproximate !== 'boolean') {
    throw new InvalidOptionError(
      `[dc:${SCOPE}] \`lfuApproximate\` must be a boolean, got ${String(o.lfuApproximate)}`,
    );
  }
  assertTtlMs(o.expiryIntervalMs, 'expiryIntervalMs', SCOPE);
  assertInteger(o.expirySampleSize, 'expirySampleSize', 1, SCOPE);
  assertInteger(o.expiryMaxRounds, 'expiryMaxRounds', 1, SCOPE);
  assertTtlMs(o.expiryCycleBudgetMs, 'expiryCycleBudgetMs', SCOPE);
  assertInteger(o.evictionSamples, 'evictionSamples', 1, SCOPE);
  if (typeof o.lfuLogFactor !== 'number' || !Number.isFinite(o.lfuLogFactor) || o.lfuLogFactor < 0) {
    throw new InvalidOptionError(
      `[dc:${SCOPE}] \`lfuLogFactor\` must be a finite number >= 0, got ${String(o.lfuLogFactor)}`,
    );
  }
  assertNonNegativeMs(o.lfuDecayTimeMs, 'lfuDecayTimeMs', SCOPE);
  if (o.lfuApproximate && policy !== 'lfu') {
    throw new InvalidOptionError(
      `[dc:${SCOPE}] \`lfuApproximate\` needs \`policy\` 'lfu' (or a *-lfu \`mode\`), got policy '${policy}'`,
    );
  }
  return {
    maxEntries: o.maxEntries ?? Number.POSITIVE_INFINITY,
    maxBytes: o.maxBytes ?? Number.POSITIVE_INFINITY,
    sizeOf: o.sizeOf,
    policy,
    mode,
    defaultTtlMs: o.defaultTtlMs ?? 0,
    clock,
    random,
    activeExpiry: o.activeExpiry,
    expiryIntervalMs: o.expiryIntervalMs,
    expirySampleSize: o.expirySampleSize,
    expiryMaxRounds: o.expiryMaxRounds,
    expiryCycleBudgetMs: o.expiryCycleBudgetMs,
    evictionSamples: o.evictionSamples,
    lfuApproximate: o.lfuApproximate,
    keyIndex: o.keyIndex as KeyIndexKind,
    lfuLogFactor: o.lfuLogFactor,
    lfuDecayTimeMs: o.lfuDecayTimeMs,
  };
}
