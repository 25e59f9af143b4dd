export type { ManualClock } from '@dc/core';
export { createManualClock } from '@dc/core';
export type { RedisBinaries } from './binaries';
export { requireRedisBinaries } from './binaries';
export type { RedisClusterHandle, ReshardOptions, SlotRange, StartClusterOptions } from './cluster';
export { DEFAULT_CLUSTER_OPTIONS, startCluster } from './cluster';
export type { ConformanceOptions, ConformanceSubject } from './conformance';
export { DEFAULT_CONFORMANCE_OPTIONS, runCacheStoreConformance } from './conformance';
export type { FaultProxy, FaultProxyOptions, FaultProxyTarget } from './fault-proxy';
export { createFaultProxy } from './fault-proxy';
export { getFreePort } from './free-port';
export { seededRandom, zipfStream } from './random';
export type { RedisNode, RedisNodeState, StartRedisOptions } from './redis-node';
export { startRedis } from './redis-node';
export type { ReplicaSetHandle, StartReplicaSetOptions } from './replica-set';
export { startReplicaSet } from './replica-set';
export type { RespReply } from './resp-reply';
export { RespError } from './resp-reply';
export type { RedisRole } from './roles';
export { roleOf, waitForRole } from './roles';
export { runningProcessCount } from './running-process-count';
export type { SentinelSetHandle, StartSentinelSetOptions } from './sentinel-set';
export {
  DEFAULT_SENTINEL_SET_OPTIONS,
  SENTINEL_TEST_PERIODS_MS,
  sentinelDebug,
  sentinelMaster,
  startSentinelSet,
} from './sentinel-set';
export type { TestStore, TestStoreOptions } from './test-store';
export { createTestStore } from './test-store';
export type { ReferenceRow, TraceReference } from './traces';
export { hasXz, loadTraceReference, readTrace, replayTrace, TRACES_DIR, traceKeys } from './traces';
export type { WaitForOptions } from './wait-for';
export { waitFor } from './wait-for';
