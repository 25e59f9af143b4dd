import type { CacheStore, Clock } from '@dc/core';
import { InvalidOptionError } from '@dc/core';

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
  const candidate = clock as Partial<Clock> | undefined;
  if (typeof candidate?.now !== 'function' || typeof candidate.setTimer !== 'function') {
    throw new InvalidOptionError(`[dc:${SCOPE}] \`clock\` must have now() and setTimer()`);
  }
}

/** Throws `E_INVALID_OPTION` unless `store` looks like a {@link CacheStore}. */
export function assertStore(store: unknown): asserts store is CacheStore<unknown> {
  const candidate = store as Partial<CacheStore<unknown>> | undefined;
  const required = ['get', 'set', 'delete', 'getMany', 'setMany'] as const;
  if (typeof candidate !== 'object' || candidate === null) {
    throw new InvalidOptionError(`[dc:${SCOPE}] \`store\` must be a CacheStore, got ${String(store)}`);
  }
  const missing = required.filter((method) => typeof candidate[method] !== 'function');
  if (missing.length > 0) {
    throw new InvalidOptionError(
      `[dc:${SCOPE}] \`store\` is missing CacheStore method(s): ${missing.join(', ')}; wrap a backend with defineStore()`,
    );
  }
}

/** Throws `E_INVALID_OPTION` unless `listener` is undefined or a function. */
export function assertOptionalFunction(value: unknown, name: string): void {
  if (value !== undefined && typeof value !== 'function') {
    throw new InvalidOptionError(`[dc:${SCOPE}] \`${name}\` must be a function, got ${typeof value}`);
  }
}
