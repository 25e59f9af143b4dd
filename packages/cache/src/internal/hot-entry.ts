import type { CacheEntry } from '@dc/core';

/** What a cached "not found" is stored as (JSON-safe, so a remote L2 can hold it). */
export const NEGATIVE_MARKER = Object.freeze({ $dcNegative: 1 });

/** True for the negative-caching marker, whichever tier or decoder produced it. */
export function isNegativeMarker(value: unknown): boolean {
  if (value === NEGATIVE_MARKER) return true;
  // One property probe rules out ordinary values before `Object.keys` allocates.
  if (typeof value !== 'object' || value === null || (value as { $dcNegative?: unknown }).$dcNegative !== 1)
    return false;
  const keys = Object.keys(value);
  return (
    keys.length === 1 && keys[0] === '$dcNegative' && (value as { $dcNegative?: unknown }).$dcNegative === 1
  );
}

/**
 * Beyond this many `deltaMs · beta` before `staleAt`, XFetch's chance to refresh is below
 * e^-20 (2e-9), so the hit path skips the random draw and the logarithm there.
 */
const XFETCH_HORIZON = 20;

/**
 * The L1 copy of an entry: the entry plus one settled promise of its value, made at fill time,
 * that every awaited L1 hit returns (no allocation per hit), and the instant until which a hit
 * needs no further decision.
 */
export interface HotEntry<V> extends CacheEntry<unknown> {
  readonly promise: Promise<V | undefined>;
  /** The entry is a cached "not found": callers see `undefined`. */
  readonly negative: boolean;
  readonly freshUntil: number;
  /**
   * False once the L1 is known to drop the entry (its TTL cap) before `freshUntil`: while the L1
   * returns it, it is fresh, and the hit path need not read the clock.
   */
  checkClock: boolean;
}

/** Builds the L1 copy of `entry`. */
export function toHotEntry<V>(
  entry: CacheEntry<unknown>,
  earlyRecompute: boolean,
  beta: number,
): HotEntry<V> {
  const negative = isNegativeMarker(entry.value);
  const { deltaMs } = entry;
  const freshUntil =
    earlyRecompute && deltaMs !== undefined && deltaMs > 0
      ? entry.staleAt - deltaMs * beta * XFETCH_HORIZON
      : entry.staleAt;
  const hot: { -readonly [K in keyof HotEntry<V>]: HotEntry<V>[K] } = {
    value: entry.value,
    expiresAt: entry.expiresAt,
    staleAt: entry.staleAt,
    promise: Promise.resolve(negative ? undefined : (entry.value as V)),
    negative,
    freshUntil,
    checkClock: true,
  };
  if (deltaMs !== undefined) hot.deltaMs = deltaMs;
  return hot;
}

/** The value a caller sees for `entry` (`undefined` for a cached "not found"). */
export function visibleValue<V>(entry: CacheEntry<unknown>): V | undefined {
  return isNegativeMarker(entry.value) ? undefined : (entry.value as V);
}
