import type { CacheStore, Clock, DataSourceMethod } from '@dc/core';
import {
  assertCacheStore,
  assertClock as assertClockIn,
  assertDataSource,
  assertFunction,
  assertNonNegativeMs,
  assertTtlMs,
  InvalidOptionError,
} from '@dc/core';

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

/** The options every strategy shares, as resolved. */
interface SharedStrategyOptions {
  readonly store: unknown;
  readonly dataSource: unknown;
  readonly ttlMs: unknown;
  readonly graceMs: unknown;
}

/**
 * Merges `options` over `defaults` (an `undefined` option keeps its default) and validates what
 * every strategy shares: the store, the data-source methods this strategy calls, `ttlMs` and
 * `graceMs`. Each resolver then checks its own options.
 * @throws InvalidOptionError (`E_INVALID_OPTION`) naming the bad option.
 */
export function resolveSharedOptions<R extends SharedStrategyOptions>(
  strategy: string,
  defaults: object,
  options: unknown,
  sourceMethods: readonly DataSourceMethod[],
): R {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError(`[dc:${SCOPE}] ${strategy} options must be an object`);
  }
  const resolved = { ...defaults, ...stripUndefined(options) } as R;
  assertStore(resolved.store);
  assertDataSource(resolved.dataSource, sourceMethods, SCOPE);
  assertTtlMs(resolved.ttlMs, 'ttlMs', SCOPE);
  assertNonNegativeMs(resolved.graceMs, 'graceMs', SCOPE);
  return resolved;
}
