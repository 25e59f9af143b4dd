import { InvalidOptionError } from '@dc/core';
import { SCOPE } from './scope';

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object' && value !== null) return Array.isArray(value) ? 'an array' : 'an object';
  return String(value);
}

/** Throws `E_INVALID_OPTION` unless `value` is a finite number >= `min` (a rate, a ratio). */
export function assertFiniteNumber(
  value: unknown,
  name: string,
  min: number,
  max = Number.POSITIVE_INFINITY,
) {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    const range = max === Number.POSITIVE_INFINITY ? `>= ${min}` : `in [${min}, ${max}]`;
    throw new InvalidOptionError(
      `[dc:${SCOPE}] \`${name}\` must be a finite number ${range}, got ${describe(value)}`,
    );
  }
}

/** Throws `E_INVALID_OPTION` unless `value` is a function. */
export function assertFunction(value: unknown, name: string): asserts value is (...args: never[]) => unknown {
  if (typeof value !== 'function') {
    throw new InvalidOptionError(`[dc:${SCOPE}] \`${name}\` must be a function, got ${describe(value)}`);
  }
}

/** Throws `E_INVALID_OPTION` unless `value` is an object with a `now` and a `setTimer` function. */
export function assertClock(value: unknown, name = 'clock'): void {
  const clock = value as { now?: unknown; setTimer?: unknown } | null;
  if (
    typeof clock !== 'object' ||
    clock === null ||
    typeof clock.now !== 'function' ||
    typeof clock.setTimer !== 'function'
  ) {
    throw new InvalidOptionError(
      `[dc:${SCOPE}] \`${name}\` must be a Clock with \`now()\` and \`setTimer()\`, got ${describe(value)}`,
    );
  }
}
