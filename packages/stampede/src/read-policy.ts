import type { CacheEntry, Random } from '@dc/core';
import { describeValue, InvalidOptionError } from '@dc/core';
import { assertFunction, assertOptionsObject, SCOPE } from './internal/validate';
import { assertBeta, DEFAULT_XFETCH_BETA, shouldRecomputeEarly } from './xfetch';

/**
 * What a read should do with the entry it found:
 * - `'fresh'`: serve it;
 * - `'refresh-early'`: serve it and refresh in the background (XFetch chose this read);
 * - `'refresh-in-background'`: it is stale (past `staleAt`, before `expiresAt`): serve it within
 *   grace while one refresh runs;
 * - `'miss'`: nothing servable; load and wait.
 */
export type ReadDecision = 'fresh' | 'refresh-early' | 'refresh-in-background' | 'miss';

/** A pure function of the entry found and the current time (epoch ms). */
export type ReadPolicy = (entry: CacheEntry<unknown> | undefined, nowMs: number) => ReadDecision;

/** Options for {@link createReadPolicy}. */
export interface ReadPolicyOptions {
  /** Use XFetch to refresh fresh entries that carry a `deltaMs` shortly before `staleAt`. @default true */
  readonly earlyRecompute?: boolean | undefined;
  /** XFetch eagerness (> 0). @default 1 */
  readonly beta?: number | undefined;
  /** XFetch's uniform random source in (0, 1]. @default () => 1 - Math.random() */
  readonly random?: Random | undefined;
}

/** Defaults of {@link ReadPolicyOptions}. */
export const DEFAULT_READ_POLICY_OPTIONS: Readonly<{ earlyRecompute: boolean; beta: number }> = Object.freeze(
  {
    earlyRecompute: true,
    beta: DEFAULT_XFETCH_BETA,
  },
);

/**
 * Builds the read policy shared by stale-while-revalidate and the facade: `'miss'` when there is
 * no entry or it has expired, `'refresh-in-background'` from `staleAt`, `'refresh-early'` when
 * XFetch (against `staleAt`) says so, else `'fresh'`.
 * @throws InvalidOptionError for a non-positive or NaN `beta` or a non-function `random`.
 */
export function createReadPolicy(options: ReadPolicyOptions = {}): ReadPolicy {
  assertOptionsObject(options, 'options');
  const earlyRecompute = options.earlyRecompute ?? DEFAULT_READ_POLICY_OPTIONS.earlyRecompute;
  const beta = options.beta ?? DEFAULT_READ_POLICY_OPTIONS.beta;
  if (typeof earlyRecompute !== 'boolean') {
    throw new InvalidOptionError(
      `[dc:${SCOPE}] \`earlyRecompute\` must be a boolean, got ${describeValue(earlyRecompute)}`,
    );
  }
  assertBeta(beta);
  if (options.random !== undefined) assertFunction(options.random, 'random');
  const random = options.random;
  return (entry, nowMs) => {
    if (entry === undefined || nowMs >= entry.expiresAt) return 'miss';
    if (nowMs >= entry.staleAt) return 'refresh-in-background';
    if (
      earlyRecompute &&
      entry.deltaMs !== undefined &&
      shouldRecomputeEarly({ nowMs, expiresAt: entry.staleAt, deltaMs: entry.deltaMs, beta, random })
    ) {
      return 'refresh-early';
    }
    return 'fresh';
  };
}
