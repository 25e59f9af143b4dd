import { InvalidOptionError } from '@dc/core';

/** Package scope used in every error message (`[dc:stampede] ...`). */
export const SCOPE = 'stampede';

/** Renders a bad input for an error message. */
export function show(value: unknown): string {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 64 ? `${value.slice(0, 61)}...` : value);
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object' && value !== null) return Array.isArray(value) ? 'an array' : 'an object';
  return String(value);
}

/** Throws `E_INVALID_OPTION` unless `value` is a finite number (NaN and ±Infinity rejected). */
export function assertFinite(value: unknown, name: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidOptionError(`[dc:${SCOPE}] \`${name}\` must be a finite number, got ${show(value)}`);
  }
}

/** Throws `E_INVALID_OPTION` unless `value` is a finite number > 0. */
export function assertPositive(value: unknown, name: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidOptionError(`[dc:${SCOPE}] \`${name}\` must be a finite number > 0, got ${show(value)}`);
  }
}

/** Throws `E_INVALID_OPTION` unless `value` is a function. */
export function assertFunction(value: unknown, name: string): asserts value is (...args: never[]) => unknown {
  if (typeof value !== 'function') {
    throw new InvalidOptionError(`[dc:${SCOPE}] \`${name}\` must be a function, got ${show(value)}`);
  }
}

/** Throws `E_INVALID_OPTION` unless `value` is an object (options bag) or undefined. */
export function assertOptionsObject(value: unknown, name: string): void {
  if (value !== undefined && (typeof value !== 'object' || value === null)) {
    throw new InvalidOptionError(`[dc:${SCOPE}] \`${name}\` must be an object, got ${show(value)}`);
  }
}

/** Swallows a rejection: attached to internal promises that callers may abandon. */
export function noop(): void {}
