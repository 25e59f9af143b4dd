import type { CacheStore, Clock } from '@dc/core';
import { assertCacheStore, assertClock as assertClockIn, assertFunction } from '@dc/core';

/** Every message from this package starts with `[dc:strategies]`. */
export const SCOPE = 'strategies';

/** Drops `undefined` values so they do not override defaults in a spread. */
export function stripUndefined<T extends object>(options: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined) (out as Record<string, unknown>)[key] = value;
  }
  return out;
}

/** Throws `E_INVALID_OPTION` unless `clock` looks like a {@link Clock}. */
export function assertClock(clock: unknown): asserts clock is Clock {
  assertClockIn(clock, 'clock', SCOPE);
}

/** Throws `E_INVALID_OPTION` unless `store` is a {@link CacheStore} (wrap a backend with `defineStore()`). */
export function assertStore(store: unknown): asserts store is CacheStore<unknown> {
  assertCacheStore(store, 'store', SCOPE);
}

/** Throws `E_INVALID_OPTION` unless `value` is undefined or a function. */
export function assertOptionalFunction(value: unknown, name: string): void {
  if (value !== undefined) assertFunction(value, name, SCOPE);
}
