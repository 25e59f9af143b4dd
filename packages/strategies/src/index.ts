export type { CacheAside, CacheAsideOptions, ResolvedCacheAsideOptions } from './cache-aside';
export { createCacheAside, DEFAULT_CACHE_ASIDE_OPTIONS, resolveCacheAsideOptions } from './cache-aside';
export type { CacheOperation, StrategyEvent, StrategyEventListener } from './events';
export type { CacheErrorPolicy } from './internal/cache-error';
export type { MemoryWriteQueueOptions } from './memory-write-queue';
export {
  createMemoryWriteQueue,
  DEFAULT_MEMORY_WRITE_QUEUE_OPTIONS,
  resolveMemoryWriteQueueOptions,
} from './memory-write-queue';
export type { RefreshAheadOptions } from './refresh-ahead';
export { createRefreshAhead, DEFAULT_REFRESH_AHEAD_OPTIONS } from './refresh-ahead';
export type {
  BackpressurePolicy,
  FlushReport,
  ResolvedWriteBehindOptions,
  WriteBehind,
  WriteBehindMetrics,
  WriteBehindOptions,
} from './write-behind';
export { createWriteBehind, DEFAULT_WRITE_BEHIND_OPTIONS, resolveWriteBehindOptions } from './write-behind';
export type { ClaimOptions, QueuedWrite, WriteQueue, WriteQueueStats, WriteRequest } from './write-queue';
export type { ResolvedWriteThroughOptions, WriteThrough, WriteThroughOptions } from './write-through';
export {
  createWriteThrough,
  DEFAULT_WRITE_THROUGH_OPTIONS,
  resolveWriteThroughOptions,
} from './write-through';
