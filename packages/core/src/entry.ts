import { describeValue } from './describe';
import { InvalidOptionError } from './errors';
import { assertNonNegativeMs, assertTtlMs } from './validation';

/**
 * What a store holds for one key. Timestamps are absolute epoch milliseconds so that every tier
 * and every process agrees on them (Redis maps `expiresAt` to `PXAT`).
 *
 * - fresh while `now < staleAt`,
 * - stale (servable within grace, refresh due) while `staleAt <= now < expiresAt`,
 * - gone once `now >= expiresAt`.
 */
export interface CacheEntry<V = unknown> {
  /** The cached value. */
  readonly value: V;
  /** Hard expiry: no store returns the entry at or after this instant (epoch ms). */
  readonly expiresAt: number;
  /** Logical expiry: from here on the entry is stale and should be refreshed (epoch ms, `<= expiresAt`). */
  readonly staleAt: number;
  /** How long the last recompute of this value took (ms); XFetch uses it to refresh early. */
  readonly deltaMs?: number;
  /** Tags for group invalidation. */
  readonly tags?: readonly string[];
}

/** Freshness of an entry at an instant. */
export type EntryState = 'fresh' | 'stale' | 'expired';

/** Options for {@link createEntry}. */
export interface CreateEntryOptions {
  /** The current time (epoch ms), normally `clock.now()`. */
  now: number;
  /** Time to live until the entry turns stale (ms, > 0). */
  ttlMs: number;
  /** Extra time a stale entry may still be served while it is refreshed (ms, >= 0). @default 0 */
  graceMs?: number;
  /** Measured recompute duration (ms, >= 0). */
  deltaMs?: number;
  /** Tags for group invalidation. */
  tags?: readonly string[];
}

/**
 * Builds a validated entry: `staleAt = now + ttlMs`, `expiresAt = staleAt + graceMs`.
 * @throws InvalidOptionError for a non-finite or non-positive TTL, or a negative grace or delta.
 */
export function createEntry<V>(value: V, options: CreateEntryOptions): CacheEntry<V> {
  const { now, ttlMs, graceMs = 0, deltaMs, tags } = options;
  assertNonNegativeMs(now, 'now');
  assertTtlMs(ttlMs, 'ttlMs');
  assertNonNegativeMs(graceMs, 'graceMs');
  const staleAt = now + ttlMs;
  const entry: { -readonly [K in keyof CacheEntry<V>]: CacheEntry<V>[K] } = {
    value,
    expiresAt: staleAt + graceMs,
    staleAt,
  };
  if (deltaMs !== undefined) {
    assertNonNegativeMs(deltaMs, 'deltaMs');
    entry.deltaMs = deltaMs;
  }
  if (tags !== undefined) entry.tags = tags;
  return entry;
}

/** The entry's state at `now`. */
export function entryState(entry: CacheEntry<unknown>, now: number): EntryState {
  if (now >= entry.expiresAt) return 'expired';
  return now >= entry.staleAt ? 'stale' : 'fresh';
}

/** True once `now` has reached the entry's hard expiry. */
export function isExpired(entry: CacheEntry<unknown>, now: number): boolean {
  return now >= entry.expiresAt;
}

/**
 * Throws {@link InvalidOptionError} unless `entry` is a well-formed {@link CacheEntry}: finite
 * timestamps with `staleAt <= expiresAt`, a non-negative `deltaMs`, string tags.
 */
export function assertValidEntry(entry: unknown, scope = 'core'): asserts entry is CacheEntry<unknown> {
  if (typeof entry !== 'object' || entry === null || !('value' in entry)) {
    throw new InvalidOptionError(
      `[dc:${scope}] an entry must be an object with a \`value\`, got ${describeValue(entry)}`,
    );
  }
  const { expiresAt, staleAt, deltaMs, tags } = entry as CacheEntry<unknown>;
  if (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt)) {
    throw new InvalidOptionError(
      `[dc:${scope}] \`expiresAt\` must be a finite epoch-milliseconds timestamp, got ${describeValue(expiresAt)}`,
    );
  }
  if (typeof staleAt !== 'number' || !Number.isFinite(staleAt) || staleAt > expiresAt) {
    throw new InvalidOptionError(
      `[dc:${scope}] \`staleAt\` must be a finite timestamp <= \`expiresAt\` (${expiresAt}), got ${describeValue(staleAt)}`,
    );
  }
  if (deltaMs !== undefined) assertNonNegativeMs(deltaMs, 'deltaMs', scope);
  if (tags !== undefined && (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string'))) {
    throw new InvalidOptionError(
      `[dc:${scope}] \`tags\` must be an array of strings, got ${describeValue(tags)}`,
    );
  }
}
