import { assertTtlMs, describeValue, InvalidOptionError, type Random } from '@dc/core';
import { SCOPE } from './internal/validate';

/** Options for {@link jitterTtl}. */
export interface JitterOptions {
  /** Largest relative change, in [0, 1): `0.1` spreads TTLs over ±10%. @default 0.1 */
  readonly ratio?: number | undefined;
  /** Uniform random number in [0, 1). @default Math.random */
  readonly random?: Random | undefined;
}

/** Default {@link JitterOptions.ratio}. */
export const DEFAULT_JITTER_RATIO = 0.1;

/**
 * Throws `E_INVALID_OPTION` unless `ratio` is a number in [0, 1).
 * @internal shared with the stale-while-revalidate options.
 */
export function assertJitterRatio(ratio: unknown, name = 'ratio'): asserts ratio is number {
  if (typeof ratio !== 'number' || !(ratio >= 0 && ratio < 1)) {
    throw new InvalidOptionError(
      `[dc:${SCOPE}] \`${name}\` must be a number in [0, 1), got ${describeValue(ratio)}`,
    );
  }
}

/**
 * Staggers a TTL so that keys written together do not expire together: returns a value drawn
 * uniformly from `[ttlMs * (1 - ratio), ttlMs * (1 + ratio))`. Always > 0 because `ratio < 1`.
 * @throws InvalidOptionError when `ttlMs` is not a finite positive number, `ratio` is outside
 * [0, 1) or NaN, or `random()` returns a value outside [0, 1].
 */
export function jitterTtl(ttlMs: number, options: JitterOptions = {}): number {
  assertTtlMs(ttlMs, 'ttlMs', SCOPE);
  const { ratio = DEFAULT_JITTER_RATIO, random = Math.random } = options;
  assertJitterRatio(ratio);
  if (ratio === 0) return ttlMs;
  const u = random();
  if (typeof u !== 'number' || !(u >= 0 && u <= 1)) {
    throw new InvalidOptionError(
      `[dc:${SCOPE}] \`random()\` must return a number in [0, 1), got ${describeValue(u)}`,
    );
  }
  return ttlMs * (1 + ratio * (2 * u - 1));
}
