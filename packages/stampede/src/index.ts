export type { AcquireOptions, DistributedLock, LockToken } from './distributed-lock';
export { DEFAULT_JITTER_RATIO, type JitterOptions, jitterTtl } from './jitter';
export type { LeaseGetOptions, LeaseRead, LeaseStore, LeaseToken } from './lease';
export {
  createLeasedLoader,
  DEFAULT_LEASED_LOADER_OPTIONS,
  type LeasedLoader,
  type LeasedLoaderOptions,
  type LeasedLoaderStats,
} from './leased-loader';
export { type LoadWithTimeoutOptions, loadWithTimeout } from './load-with-timeout';
export {
  assertLeaseToken,
  createMemoryLeaseStore,
  DEFAULT_MEMORY_LEASE_STORE_OPTIONS,
  type MemoryLeaseStoreOptions,
} from './memory-lease-store';
export { assertAcquireInput, assertLockToken, createMemoryLock, type MemoryLockOptions } from './memory-lock';
export {
  createReadPolicy,
  DEFAULT_READ_POLICY_OPTIONS,
  type ReadDecision,
  type ReadPolicy,
  type ReadPolicyOptions,
} from './read-policy';
export {
  createSingleFlight,
  type SingleFlight,
  type SingleFlightMiddleware,
  type SingleFlightRunOptions,
  type SingleFlightStats,
  singleFlight,
} from './single-flight';
export {
  createStaleWhileRevalidate,
  DEFAULT_STALE_WHILE_REVALIDATE_OPTIONS,
  type ResolvedStaleWhileRevalidateOptions,
  resolveStaleWhileRevalidateOptions,
  type StaleWhileRevalidate,
  type StaleWhileRevalidateErrorContext,
  type StaleWhileRevalidateOptions,
  type StaleWhileRevalidatePhase,
  type StaleWhileRevalidateStats,
} from './stale-while-revalidate';
export { DEFAULT_XFETCH_BETA, shouldRecomputeEarly, type XFetchInput } from './xfetch';
