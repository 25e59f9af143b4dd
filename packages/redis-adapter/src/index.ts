export type {
  BreakerRegistry,
  BreakerRegistryOptions,
  CircuitBreaker,
  CircuitBreakerOptions,
  CircuitState,
} from './circuit-breaker';
export {
  createBreakerRegistry,
  createCircuitBreaker,
  DEFAULT_CIRCUIT_BREAKER_OPTIONS,
} from './circuit-breaker';
export {
  failFastClusterOptions,
  failFastRedisOptions,
  MAX_RECONNECT_DELAY_MS,
  RECONNECT_JITTER_MS,
  reconnectDelayMs,
  reconnectOnReadonly,
} from './client-options';
export type { EnvelopeCodec } from './codec';
export { createEnvelopeCodec, ENVELOPE_VERSION } from './codec';
export { escapeGlob, namespacedKey, namespacePrefix, namespaceScanPattern } from './namespace';
export type {
  ClusterTopologyOptions,
  Durability,
  FailMode,
  KetamaShard,
  ReadFrom,
  RedisConnection,
  RedisStoreEvent,
  RedisStoreOptions,
  ResolvedRedisStoreOptions,
  SentinelTopologyOptions,
  TopologyKind,
} from './options';
export { DEFAULT_REDIS_STORE_OPTIONS, READ_FROM_VALUES, resolveRedisStoreOptions } from './options';
export type {
  RedisBusMessage,
  RedisBusOptions,
  RedisBusSubscribeOptions,
  RedisInvalidationBus,
} from './redis-bus';
export {
  createRedisBus,
  DEFAULT_REDIS_BUS_OPTIONS,
  REDIS_BUS_MESSAGE_VERSION,
  TRACKING_ORIGIN,
} from './redis-bus';
export type {
  RedisLeaseRead,
  RedisLeaseStore,
  RedisLeaseStoreOptions,
  RedisLeaseToken,
} from './redis-lease-store';
export { createRedisLeaseStore, DEFAULT_REDIS_LEASE_STORE_OPTIONS } from './redis-lease-store';
export type { RedisLock, RedisLockAcquireOptions, RedisLockOptions, RedisLockToken } from './redis-lock';
export { createRedisLock, DEFAULT_REDIS_LOCK_OPTIONS } from './redis-lock';
export type { RedisStore, RedisStoreStats } from './redis-store';
export { createRedisStore, isCacheUnavailable } from './redis-store';
export type {
  RedisQueuedWrite,
  RedisQueueStats,
  RedisQueueWriteRequest,
  RedisStreamQueue,
  RedisStreamQueueOptions,
} from './redis-stream-queue';
export { createRedisStreamQueue, DEFAULT_REDIS_STREAM_QUEUE_OPTIONS } from './redis-stream-queue';
export { guardReplyDepth, MAX_REPLY_DEPTH } from './reply-depth-guard';
