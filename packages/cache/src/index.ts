export type { Cache, CacheLoader } from './cache';
export { createCache } from './cache';
export type { EmbeddedStore, EmbeddedStoreOptions } from './embedded-store';
export { createEmbeddedStore, DEFAULT_EMBEDDED_STORE_OPTIONS, isEmbeddedStore } from './embedded-store';
export type { CacheEventListener, CacheEventMap, CacheEventName, CacheStats, CacheTier } from './events';
export type {
  CacheEntryOptions,
  CacheOptions,
  FailMode,
  ResolvedCacheOptions,
  ResolvedEntryOptions,
  WriteMode,
} from './options';
export {
  DEFAULT_CACHE_OPTIONS,
  FAIL_MODES,
  resolveCacheOptions,
  resolveEntryOptions,
  WRITE_MODES,
} from './options';
