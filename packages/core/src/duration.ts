import { describeValue } from './describe';
import { InvalidOptionError } from './errors';

/** A duration: milliseconds as a number, or a string such as `'150ms'`, `'5s'`, `'10m'`, `'1h'`, `'1d'`. */
export type Duration = number | string;

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION_PATTERN = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/** Options for {@link parseDuration}. */
export interface ParseDurationOptions {
  /** Option name used in the error message. @default 'duration' */
  name?: string;
  /** Package that owns the option, for the message prefix. @default 'core' */
  scope?: string;
  /** Accept `0`. TTLs must not; grace periods may. @default false */
  allowZero?: boolean;
}

/**
 * Converts a {@link Duration} to milliseconds.
 * @throws InvalidOptionError (`E_INVALID_OPTION`) naming the option and the input when it is not a
 * finite duration (NaN, Infinity, negative, zero unless `allowZero`, or an unknown unit).
 */
export function parseDuration(input: Duration, options: ParseDurationOptions = {}): number {
  const { name = 'duration', scope = 'core', allowZero = false } = options;
  let ms: number | undefined;
  if (typeof input === 'number') {
    ms = input;
  } else if (typeof input === 'string') {
    const match = DURATION_PATTERN.exec(input.trim());
    if (match) ms = Number(match[1]) * (UNIT_MS[match[2] as string] as number);
  }
  if (ms === undefined || !Number.isFinite(ms) || ms < 0 || (ms === 0 && !allowZero)) {
    const expected = allowZero ? '>= 0' : '> 0';
    throw new InvalidOptionError(
      `[dc:${scope}] \`${name}\` must be a finite duration ${expected} (milliseconds, or a string like '150ms', '5s', '10m', '1h', '1d'), got ${describeValue(input)}`,
    );
  }
  return ms;
}
