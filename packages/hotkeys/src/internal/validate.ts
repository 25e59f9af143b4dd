import {
  assertClock as assertClockIn,
  assertFiniteNumber as assertFiniteNumberIn,
  assertFunction as assertFunctionIn,
} from '@dc/core';
import { SCOPE } from './scope';

/** Throws `E_INVALID_OPTION` unless `value` is a finite number in [`min`, `max`] (a rate, a ratio). */
export function assertFiniteNumber(
  value: unknown,
  name: string,
  min: number,
  max = Number.POSITIVE_INFINITY,
): asserts value is number {
  assertFiniteNumberIn(value, name, { min, max }, SCOPE);
}

/** Throws `E_INVALID_OPTION` unless `value` is a function. */
export function assertFunction(value: unknown, name: string): asserts value is (...args: never[]) => unknown {
  assertFunctionIn(value, name, SCOPE);
}

/** Throws `E_INVALID_OPTION` unless `value` is a Clock with `now()` and `setTimer()`. */
export function assertClock(value: unknown, name = 'clock'): void {
  assertClockIn(value, name, SCOPE);
}
