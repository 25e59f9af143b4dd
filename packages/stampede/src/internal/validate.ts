import {
  assertFiniteNumber,
  assertFunction as assertFunctionIn,
  assertOptionsObject as assertOptionsObjectIn,
} from '@dc/core';

/** Package scope used in every error message (`[dc:stampede] ...`). */
export const SCOPE = 'stampede';

/** Throws `E_INVALID_OPTION` unless `value` is a finite number (NaN and ±Infinity rejected). */
export function assertFinite(value: unknown, name: string): asserts value is number {
  assertFiniteNumber(value, name, {}, SCOPE);
}

/** Throws `E_INVALID_OPTION` unless `value` is a finite number > 0. */
export function assertPositive(value: unknown, name: string): asserts value is number {
  assertFiniteNumber(value, name, { min: 0, exclusiveMin: true }, SCOPE);
}

/** Throws `E_INVALID_OPTION` unless `value` is a function. */
export function assertFunction(value: unknown, name: string): asserts value is (...args: never[]) => unknown {
  assertFunctionIn(value, name, SCOPE);
}

/** Throws `E_INVALID_OPTION` unless `value` is an object (options bag) or undefined. */
export function assertOptionsObject(value: unknown, name: string): void {
  assertOptionsObjectIn(value, name, SCOPE);
}

/** Swallows a rejection: attached to internal promises that callers may abandon. */
export function noop(): void {}
