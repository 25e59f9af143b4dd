import { CacheUnavailableError, isDcError } from '@dc/core';

/** What to do when the cache tier fails: surface the error, or carry on without the cache. */
export type CacheErrorPolicy = 'throw' | 'ignore';

/** The allowed {@link CacheErrorPolicy} values. */
export const CACHE_ERROR_POLICIES: readonly CacheErrorPolicy[] = ['throw', 'ignore'];

/** Wraps a raw store failure in a typed error, keeping typed ones as they are. */
export function toCacheError(scope: string, operation: string, key: string, error: unknown): Error {
  if (isDcError(error)) return error;
  return new CacheUnavailableError(
    `[dc:${scope}] cache ${operation} failed for key ${JSON.stringify(key)}; the key was invalidated`,
    { cause: error },
  );
}
