import { InvalidOptionError } from '@dc/core';
import type { CacheAside, CacheAsideOptions } from './cache-aside';
import { createCacheAside } from './cache-aside';
import { SCOPE } from './internal/options';

/** Options for {@link createRefreshAhead}: cache-aside options with refresh-ahead on. */
export interface RefreshAheadOptions<V> extends CacheAsideOptions<V> {
  /**
   * A read of an entry older than this fraction of `ttlMs` returns the cached value at once and
   * starts one background reload for the key (0 < factor < 1). @default 0.75
   */
  refreshAheadFactor?: number;
}

/** Defaults of {@link RefreshAheadOptions} on top of the cache-aside defaults. */
export const DEFAULT_REFRESH_AHEAD_OPTIONS = Object.freeze({ refreshAheadFactor: 0.75 });

/**
 * Refresh-ahead: cache-aside that reloads an entry in the background when it is read late in
 * its life, so hot keys never expire under their readers. At most one load per key runs at a
 * time (an internal guard; no dependency on `@dc/stampede`). A failed refresh keeps the old
 * entry until it expires and reports `refresh:error`.
 * @throws InvalidOptionError for a factor outside (0, 1) or any invalid cache-aside option.
 */
export function createRefreshAhead<V>(options: RefreshAheadOptions<V>): CacheAside<V> {
  const refreshAheadFactor = options?.refreshAheadFactor ?? DEFAULT_REFRESH_AHEAD_OPTIONS.refreshAheadFactor;
  if (typeof refreshAheadFactor !== 'number' || !(refreshAheadFactor > 0 && refreshAheadFactor < 1)) {
    throw new InvalidOptionError(
      `[dc:${SCOPE}] \`refreshAheadFactor\` must be a number between 0 and 1 exclusive, got ${String(refreshAheadFactor)}`,
    );
  }
  return createCacheAside({ ...options, refreshAheadFactor });
}
