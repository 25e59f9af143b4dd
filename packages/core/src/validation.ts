import { InvalidKeyError, InvalidOptionError } from './errors';
import { describeValue } from './internal/describe';

/**
 * Longest key (in UTF-16 code units) accepted by default. Redis allows far longer keys, but a
 * multi-kilobyte key is nearly always a bug (a serialized object used as a key) and costs
 * memory and bandwidth on every access.
 * @default 1024
 */
export const DEFAULT_MAX_KEY_LENGTH = 1024;

/**
 * Throws {@link InvalidKeyError} unless `key` is a non-empty string of at most `maxLength`
 * code units. `scope` names the package in the message (`[dc:l1]`).
 */
export function assertValidKey(
  key: unknown,
  scope = 'core',
  maxLength: number = DEFAULT_MAX_KEY_LENGTH,
): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new InvalidKeyError(
      `[dc:${scope}] a cache key must be a non-empty string, got ${describeValue(key)}`,
    );
  }
  if (key.length > maxLength) {
    throw new InvalidKeyError(
      `[dc:${scope}] a cache key must be at most ${maxLength} characters, got one of ${key.length}; hash long keys before caching`,
    );
  }
}

/**
 * Throws {@link InvalidOptionError} unless `value` is a finite number of milliseconds > 0.
 * Use for TTLs and every duration that must not be zero.
 */
export function assertTtlMs(value: unknown, name = 'ttlMs', scope = 'core'): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidOptionError(
      `[dc:${scope}] \`${name}\` must be a finite positive number of milliseconds, got ${describeValue(value)}`,
    );
  }
}

/** Throws {@link InvalidOptionError} unless `value` is a finite number of milliseconds >= 0. */
export function assertNonNegativeMs(value: unknown, name: string, scope = 'core'): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidOptionError(
      `[dc:${scope}] \`${name}\` must be a finite number of milliseconds >= 0, got ${describeValue(value)}`,
    );
  }
}

/** Throws {@link InvalidOptionError} unless `value` is an integer >= `min`. */
export function assertInteger(
  value: unknown,
  name: string,
  min: number,
  scope = 'core',
): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new InvalidOptionError(
      `[dc:${scope}] \`${name}\` must be an integer >= ${min}, got ${describeValue(value)}`,
    );
  }
}

/** Throws {@link InvalidOptionError} unless `value` is one of `allowed`. */
export function assertOneOf<T extends string>(
  value: unknown,
  allowed: readonly T[],
  name: string,
  scope = 'core',
): asserts value is T {
  if (!allowed.includes(value as T)) {
    throw new InvalidOptionError(
      `[dc:${scope}] \`${name}\` must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${describeValue(value)}`,
    );
  }
}
