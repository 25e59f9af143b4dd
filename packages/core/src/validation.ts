import type { Clock } from './clock';
import { describeValue } from './describe';
import { InvalidKeyError, InvalidOptionError } from './errors';
import type { CacheStore } from './store';

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

/** Bounds for {@link assertFiniteNumber}. */
export interface NumberBounds {
  /** Smallest accepted value. @default -Infinity */
  min?: number;
  /** Largest accepted value. @default Infinity */
  max?: number;
  /** Reject `min` itself (for "> 0" rather than ">= 0"). @default false */
  exclusiveMin?: boolean;
  /** Reject `max` itself (for ratios in [0, 1)). @default false */
  exclusiveMax?: boolean;
}

/**
 * Throws {@link InvalidOptionError} unless `value` is a finite number within `bounds`. For
 * quantities that are not durations: rates, ratios, factors.
 */
export function assertFiniteNumber(
  value: unknown,
  name: string,
  bounds: NumberBounds = {},
  scope = 'core',
): asserts value is number {
  const {
    min = Number.NEGATIVE_INFINITY,
    max = Number.POSITIVE_INFINITY,
    exclusiveMin,
    exclusiveMax,
  } = bounds;
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (exclusiveMin ? value > min : value >= min) &&
    (exclusiveMax ? value < max : value <= max);
  if (!ok) {
    throw new InvalidOptionError(
      `[dc:${scope}] \`${name}\` must be a finite number${describeBounds(bounds)}, got ${describeValue(value)}`,
    );
  }
}

function describeBounds({ min, max, exclusiveMin, exclusiveMax }: NumberBounds): string {
  const hasMin = min !== undefined && min !== Number.NEGATIVE_INFINITY;
  const hasMax = max !== undefined && max !== Number.POSITIVE_INFINITY;
  if (hasMin && hasMax) return ` in ${exclusiveMin ? '(' : '['}${min}, ${max}${exclusiveMax ? ')' : ']'}`;
  if (hasMin) return ` ${exclusiveMin ? '>' : '>='} ${min}`;
  if (hasMax) return ` ${exclusiveMax ? '<' : '<='} ${max}`;
  return '';
}

/** Throws {@link InvalidOptionError} unless `value` is a function. */
export function assertFunction(
  value: unknown,
  name: string,
  scope = 'core',
): asserts value is (...args: never[]) => unknown {
  if (typeof value !== 'function') {
    throw new InvalidOptionError(`[dc:${scope}] \`${name}\` must be a function, got ${describeValue(value)}`);
  }
}

/** Throws {@link InvalidOptionError} unless `value` is an object (an options bag); `undefined` passes. */
export function assertOptionsObject(
  value: unknown,
  name: string,
  scope = 'core',
): asserts value is object | undefined {
  if (value !== undefined && (typeof value !== 'object' || value === null)) {
    throw new InvalidOptionError(`[dc:${scope}] \`${name}\` must be an object, got ${describeValue(value)}`);
  }
}

/** Throws {@link InvalidOptionError} unless `value` looks like a {@link Clock} (`now()` and `setTimer()`). */
export function assertClock(value: unknown, name = 'clock', scope = 'core'): asserts value is Clock {
  const clock = value as Partial<Clock> | null;
  if (
    typeof clock !== 'object' ||
    clock === null ||
    typeof clock.now !== 'function' ||
    typeof clock.setTimer !== 'function'
  ) {
    throw new InvalidOptionError(
      `[dc:${scope}] \`${name}\` must be a Clock with \`now()\` and \`setTimer()\`, got ${describeValue(value)}`,
    );
  }
}

const STORE_METHODS = ['get', 'set', 'delete', 'clear', 'close', 'getMany', 'setMany', 'deleteMany'] as const;

/** Throws {@link InvalidOptionError} unless `value` has every {@link CacheStore} method. */
export function assertCacheStore(
  value: unknown,
  name = 'store',
  scope = 'core',
): asserts value is CacheStore<unknown> {
  const missing =
    typeof value === 'object' && value !== null
      ? STORE_METHODS.filter((method) => typeof (value as Record<string, unknown>)[method] !== 'function')
      : STORE_METHODS;
  if (missing.length > 0) {
    throw new InvalidOptionError(
      `[dc:${scope}] \`${name}\` must be a CacheStore (missing ${missing.join(', ')}), got ${describeValue(value)}`,
    );
  }
}
