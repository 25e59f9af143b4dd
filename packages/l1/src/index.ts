export type {
  AttachInvalidationBusOptions,
  InvalidationLink,
  InvalidationLinkStats,
} from './attach-invalidation-bus';
export { attachInvalidationBus, DEFAULT_ATTACH_INVALIDATION_BUS_OPTIONS } from './attach-invalidation-bus';
export type { CoarseClock, CoarseClockOptions } from './coarse-clock';
export { createCoarseClock, LATE_TIMER_SLACK_MS } from './coarse-clock';
export type { InProcessBus, InProcessBusOptions } from './in-process-bus';
export { createInProcessBus } from './in-process-bus';
export type {
  Invalidation,
  InvalidationBus,
  InvalidationHandler,
  InvalidationSubscribeOptions,
} from './invalidation';
export { assertInvalidation, INVALIDATION_VERSION, isInvalidation } from './invalidation';
export type {
  L1BackendName,
  L1InvalidationOptions,
  L1KeyIndex,
  L1Policy,
  L1StoreOptions,
  ResolvedL1StoreOptions,
} from './l1-options';
export {
  DEFAULT_L1_STORE_OPTIONS,
  L1_BACKENDS,
  L1_KEY_INDEXES,
  L1_POLICIES,
  resolveL1StoreOptions,
} from './l1-options';
export type { FillToken, L1Stats, L1Store } from './l1-store';
export { createL1Store } from './l1-store';
export { ENTRY_OVERHEAD_BYTES, estimateSize } from './size-of';
