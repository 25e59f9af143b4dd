import type { CacheEntry } from '@dc/core';

/**
 * `entry` with its hard expiry brought forward to at most `now + ttlMs` (and `staleAt` no later
 * than that), or `undefined` when the entry has already expired. Returns `entry` itself when no
 * change is needed.
 */
export function capEntry<V>(entry: CacheEntry<V>, now: number, ttlMs: number): CacheEntry<V> | undefined {
  if (now >= entry.expiresAt) return undefined;
  const expiresAt = now + ttlMs;
  if (entry.expiresAt <= expiresAt) return entry;
  return { ...entry, expiresAt, staleAt: Math.min(entry.staleAt, expiresAt) };
}
