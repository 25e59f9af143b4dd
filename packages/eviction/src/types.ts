import type { EvictionMode, EvictionPolicy } from './options';

/** Per-call options of `MemoryStore.set`. `ttlMs` and `expiresAt` are mutually exclusive. */
export interface SetOptions {
  /** Time to live from now (ms, finite, > 0). @default the store's `defaultTtlMs`, else none */
  ttlMs?: number;
  /**
   * Absolute hard expiry (epoch ms, as `clock.now()`). `Infinity` stores the entry without a TTL
   * even when `defaultTtlMs` is set. At or before now, the key is removed and nothing is stored.
   */
  expiresAt?: number;
  /** Size of this entry in bytes (finite, >= 0); overrides `sizeOf`. */
  size?: number;
}

/**
 * Why an entry left because of the budget: `capacity` when it made room for a write;
 * `admission` when it lost `tinylfu`'s admission contest (the candidate leaving the window
 * against main's victim, compared by estimated frequency — the loser goes).
 */
export type EvictReason = 'capacity' | 'admission';

/** Listener of `'evict'`: called after the entry was removed. Must not throw. */
export type EvictListener<V> = (key: string, value: V, reason: EvictReason) => void;

/** Listener of `'expire'`: called after an expired entry was removed (on access or by the cycle). */
export type ExpireListener<V> = (key: string, value: V, expiresAt: number) => void;

/** Events emitted by a {@link MemoryStore}. Explicit `delete`/`clear`/overwrites emit nothing. */
export interface MemoryStoreEvents<V> {
  evict: EvictListener<V>;
  expire: ExpireListener<V>;
}

/** Counters since creation (or the last `resetStats()`). */
export interface MemoryStoreStats {
  /** `get` calls that returned a live entry. */
  readonly hits: number;
  /** `get` calls that found nothing or an expired entry. */
  readonly misses: number;
  /** Entries removed to respect `maxEntries`/`maxBytes` (both reasons). */
  readonly evictions: number;
  /** Expired entries removed, passively or by the background cycle. */
  readonly expirations: number;
}

/**
 * A bounded, synchronous, in-process key-value store with TTLs and a pluggable eviction policy.
 * Any string is a key (`''`, `__proto__` and `constructor` included). A `get` hit is O(1) and
 * allocates nothing.
 */
export interface MemoryStore<V> extends Iterable<[string, V]> {
  /** The ranking structure in use. */
  readonly policy: EvictionPolicy;
  /** The Redis eviction mode in use. */
  readonly mode: EvictionMode;
  /** Entries held, including expired ones not yet reclaimed. */
  readonly size: number;
  /** Bytes accounted with `sizeOf`/`size` (0 when the store has no `maxBytes`). */
  readonly bytes: number;
  /** The entry budget (`Infinity` when unbounded). */
  readonly maxEntries: number;
  /** The byte budget (`Infinity` when unbounded). */
  readonly maxBytes: number;
  /** The live value for `key` (counts as an access for the policy), or `undefined`. */
  get(key: string): V | undefined;
  /** Like `get` but leaves recency/frequency untouched and counts no hit or miss. */
  peek(key: string): V | undefined;
  /** True when `key` holds a live entry; no recency/frequency update. */
  has(key: string): boolean;
  /**
   * Stores `value` under `key`, evicting per the mode when a budget would be exceeded. Like
   * Redis's `SET`, a write without `ttlMs`/`expiresAt` replaces any TTL (with `defaultTtlMs`,
   * or none). Counts as an access of an existing key for the policy. Returns
   * whether the key is held afterwards: `false` for an `expiresAt` already past (the key is
   * removed), or when `tinylfu` evicted the entry at once to respect `maxBytes`.
   * @throws CapacityError (`E_CAPACITY`) for `noeviction` when full, a `volatile-*` mode with no
   *   key that has a TTL to evict, or an entry larger than `maxBytes`. A refused write changes nothing.
   * @throws InvalidOptionError for a bad `ttlMs`, `expiresAt` or size.
   */
  set(key: string, value: V, options?: SetOptions): boolean;
  /**
   * Removes `key`; `true` when a live entry was removed. Emits nothing (an entry found already
   * expired is removed as `'expire'` and reported `false`).
   */
  delete(key: string): boolean;
  /** Removes every entry. Emits nothing. */
  clear(): void;
  /** Hard expiry of `key` (epoch ms; `Infinity` when it has no TTL), or `undefined` when absent. */
  getExpiresAt(key: string): number | undefined;
  /**
   * Live keys, in insertion order of their current entries (with `keyIndex: 'object'`,
   * integer-like keys such as `'17'` come first, ascending). An iteration ends when `clear()` runs.
   */
  keys(): IterableIterator<string>;
  /** Live values, in the order of `keys()`. */
  values(): IterableIterator<V>;
  /** Live `[key, value]` pairs, in the order of `keys()`. */
  entries(): IterableIterator<[string, V]>;
  /** Removes every expired entry now (emits `'expire'` for each); returns how many. O(keys with a TTL). */
  purgeExpired(): number;
  /** Runs one background-style sampled expiry cycle now; returns how many entries expired. */
  runExpiryCycle(): number;
  /** Subscribes to an event; returns the function that unsubscribes. */
  on<E extends keyof MemoryStoreEvents<V>>(event: E, listener: MemoryStoreEvents<V>[E]): () => void;
  /** Hit, miss, eviction and expiration counters. */
  stats(): MemoryStoreStats;
  /** Zeroes the counters of `stats()`. */
  resetStats(): void;
  /**
   * Stops the background expiry timer for good and removes every entry. Idempotent; the store
   * stays usable as a plain bounded map with passive expiry, but never schedules a timer again.
   */
  close(): void;
}
