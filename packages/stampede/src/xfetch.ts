/**
 * XFetch: probabilistic early recomputation, after A. Vattani, F. Chierichetti, K. Lowenstein,
 * "Optimal Probabilistic Cache Stampede Prevention", PVLDB 8(8), 2015.
 *
 * Each reader independently recomputes early when `now - delta * beta * ln(u) >= expiry`, with
 * `u` uniform in (0, 1] and `delta` the measured duration of the last recompute. `-ln(u)` is
 * exponentially distributed, so the chance that one read at `t = expiry - now` before expiry
 * triggers a recompute is `exp(-t / (delta * beta))`: negligible far from expiry, rising
 * sharply over the last few `delta`. The paper proves this shape optimal for a single recompute
 * close to (but before) expiry. `beta > 1` favours earlier recomputes, `beta < 1` later ones.
 */
import { describeValue, InvalidOptionError, type Random } from '@dc/core';
import { assertFinite, assertPositive, SCOPE } from './internal/validate';

/** Input of {@link shouldRecomputeEarly}. */
export interface XFetchInput {
  /** Current time (epoch ms), normally `clock.now()`. */
  readonly nowMs: number;
  /** When the value expires (epoch ms); for a `CacheEntry` use its `staleAt`. */
  readonly expiresAt: number;
  /** Measured duration of the last recompute (ms, >= 0), `CacheEntry.deltaMs`. */
  readonly deltaMs: number;
  /** Eagerness (> 0); above 1 recomputes earlier, below 1 later. @default 1 */
  readonly beta?: number | undefined;
  /**
   * Uniform random number in (0, 1]. The default is `1 - Math.random()`; `0` would mean
   * "recompute now" (ln 0 = -Infinity).
   * @default () => 1 - Math.random()
   */
  readonly random?: Random | undefined;
}

/** Default XFetch eagerness, as in the paper. */
export const DEFAULT_XFETCH_BETA = 1;

const defaultRandom: Random = () => 1 - Math.random();

/**
 * Throws `E_INVALID_OPTION` unless `beta` is a finite number > 0.
 * @internal shared with the read policy.
 */
export function assertBeta(beta: unknown): asserts beta is number {
  assertPositive(beta, 'beta');
}

/**
 * The XFetch decision: true iff `nowMs - deltaMs * beta * Math.log(u) >= expiresAt` with
 * `u = random()`; always true once `nowMs >= expiresAt`.
 * @throws InvalidOptionError when a number is NaN or infinite, `deltaMs < 0`, `beta <= 0`,
 * or `random()` returns a value outside [0, 1].
 */
export function shouldRecomputeEarly(input: XFetchInput): boolean {
  const { nowMs, expiresAt, deltaMs, beta = DEFAULT_XFETCH_BETA, random = defaultRandom } = input;
  assertFinite(nowMs, 'nowMs');
  assertFinite(expiresAt, 'expiresAt');
  if (typeof deltaMs !== 'number' || !Number.isFinite(deltaMs) || deltaMs < 0) {
    throw new InvalidOptionError(
      `[dc:${SCOPE}] \`deltaMs\` must be a finite number of milliseconds >= 0, got ${describeValue(deltaMs)}`,
    );
  }
  assertBeta(beta);
  if (nowMs >= expiresAt) return true;
  const u = random();
  if (typeof u !== 'number' || !(u >= 0 && u <= 1)) {
    throw new InvalidOptionError(
      `[dc:${SCOPE}] \`random()\` must return a number in (0, 1], got ${describeValue(u)}`,
    );
  }
  return nowMs - deltaMs * beta * Math.log(u) >= expiresAt;
}
