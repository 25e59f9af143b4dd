/**
 * Leases, after Nishtala et al., "Scaling Memcache at Facebook" (NSDI 2013), section 3.2.1.
 *
 * A reader that misses gets a lease token and becomes the one process that fills the key; the
 * others are told to wait (or get the stale value) instead of all hitting the data source. A
 * `delete` or `set` of the key voids the outstanding token, so a slow loader's late `fill` is
 * rejected instead of writing a value read before the delete over it.
 *
 * Implementations: `createMemoryLeaseStore` here, a Redis one in `@dc/redis-adapter` (token and
 * value in Redis, `fill` as a Lua compare-and-set). Every implementation must pass
 * `runLeaseContract` from this package's `test/lease-contract.ts`.
 */
import type { CacheEntry } from '@dc/core';

/** The right to fill one key once. Treat it as opaque. */
export interface LeaseToken {
  /** The leased key. */
  readonly key: string;
  /** Unique per lease (never reused); compared by `fill` and `release`. */
  readonly id: string;
}

/** Options for {@link LeaseStore.get}. */
export interface LeaseGetOptions {
  /**
   * How long a lease granted by this read stays valid (ms, > 0). While it is valid, other
   * readers are told to wait; once it lapses the next reader gets a new lease.
   * @default the store's `leaseTtlMs`
   */
  readonly leaseTtlMs?: number | undefined;
}

/** Result of {@link LeaseStore.get}. */
export type LeaseRead<V> =
  /** A fresh entry (before its `staleAt`). */
  | { readonly status: 'hit'; readonly entry: CacheEntry<V> }
  /** Miss or stale: this reader holds the lease and should load and `fill`. */
  | { readonly status: 'lease'; readonly token: LeaseToken; readonly stale: CacheEntry<V> | undefined }
  /** Miss or stale while another reader holds the lease: wait and read again, or use `stale`. */
  | { readonly status: 'wait'; readonly stale: CacheEntry<V> | undefined };

/**
 * A key-value store whose misses hand out fill leases. `stale` is an entry past `staleAt` but
 * before `expiresAt`; expired and deleted entries are never returned.
 */
export interface LeaseStore<V = unknown> {
  /**
   * Reads `key`; on a miss or a stale entry grants a lease unless another one is outstanding.
   * @throws InvalidKeyError; InvalidOptionError for a bad `leaseTtlMs`; ClosedError after `close()`.
   */
  get(key: string, options?: LeaseGetOptions): Promise<LeaseRead<V>>;
  /**
   * Writes `entry` iff `token` is still the key's valid lease (not voided by `delete`/`set`, not
   * lapsed, not used); consumes the token. Resolves whether the entry was written.
   * @throws InvalidOptionError for a malformed token or entry.
   */
  fill(token: LeaseToken, entry: CacheEntry<V>): Promise<boolean>;
  /** Gives a lease back without filling (the load failed), so the next reader may take one. */
  release(token: LeaseToken): Promise<boolean>;
  /** Writes `entry` unconditionally and voids any outstanding lease. */
  set(key: string, entry: CacheEntry<V>): Promise<void>;
  /** Removes `key` and voids any outstanding lease; resolves whether an entry was removed. */
  delete(key: string): Promise<boolean>;
  /** Releases what the store created; later calls reject with `E_CLOSED`. Idempotent. */
  close(): Promise<void>;
}
