import type { Random } from '@dc/core';

/** Parameters of {@link backoffDelayMs}. */
export interface BackoffPolicy {
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly jitterRatio: number;
  /** No delay is ever shorter than this (the regular flush interval). */
  readonly minDelayMs: number;
}

/**
 * Exponential backoff with additive jitter: `min(max, base * 2^(attempt-1))`, at least
 * `minDelayMs`, stretched by up to `jitterRatio`. Jitter only ever lengthens a delay, so the
 * retry count within an outage stays bounded by the flush interval.
 */
export function backoffDelayMs(attempt: number, policy: BackoffPolicy, random: Random): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  const delay = Math.max(policy.minDelayMs, exponential);
  return Math.round(delay * (1 + policy.jitterRatio * random()));
}
