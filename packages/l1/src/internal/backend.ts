import type { CacheEntry } from '@dc/core';

/** Why an entry left the backend without a `delete`. */
export type RemovalCause = 'evict' | 'expire';

/**
 * What a backend holds per key: the entry, and the settled promise the async `get` hands out
 * for it, made on the first async hit and reused, so an awaited hit allocates nothing.
 */
export interface Slot<V> {
  readonly entry: CacheEntry<V>;
  /** When the L1 drops the entry (epoch ms): `expiresAt` or the `defaultTtlMs` cap. */
  readonly deadline: number;
  promise: Promise<CacheEntry<V>> | undefined;
}

/**
 * The bounded map under an L1 store. The store validates keys and entries and sizes them; a
 * backend keeps entries within its `maxEntries`/`maxBytes` by evicting, reports removals
 * through `onRemove`, and never returns an entry at or after the `deadline` it was stored
 * with, judged by the L1's clock (so the hit path reads the clock once, in the backend).
 */
export interface L1Backend<V> {
  /** The stored slot while the clock is before its deadline, else `undefined`. */
  get(key: string): Slot<V> | undefined;
  /**
   * Stores `entry` until `deadline` (epoch ms, in the future), charged `bytes` against the byte
   * budget. `false` when the policy refused it (`tinylfu` admission).
   */
  set(key: string, entry: CacheEntry<V>, deadline: number, bytes: number): boolean;
  /** Removes `key`; `true` when a live entry was removed. */
  delete(key: string): boolean;
  clear(): void;
  /** Live key count (may include entries expired but not yet reclaimed). */
  size(): number;
  /** Accounted bytes of the stored entries. */
  bytes(): number;
  keys(): IterableIterator<string>;
  /** Stops background work; the backend is not used afterwards. */
  close(): void;
}

/** Called for every entry a backend drops on its own (capacity or expiry). */
export type RemovalListener = (key: string, cause: RemovalCause) => void;
