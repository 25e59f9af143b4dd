import type { CacheEntry } from '@dc/core';

/** Why an entry left the backend without a `delete`. */
export type RemovalCause = 'evict' | 'expire';

/**
 * The bounded map under an L1 store. The store validates keys and entries, checks `expiresAt`
 * with its own clock and accounts nothing itself; a backend keeps entries within its
 * `maxEntries`/`maxBytes` by evicting, and reports removals through `onRemove`.
 */
export interface L1Backend<V> {
  /** The stored entry, or `undefined`. May return an entry past its `expiresAt`; the store checks. */
  get(key: string): CacheEntry<V> | undefined;
  /** Stores `entry` for at most `ttlMs`, charged `bytes` against the byte budget. */
  set(key: string, entry: CacheEntry<V>, ttlMs: number, bytes: number): void;
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
