export type {
  CounterAggregator,
  CounterAggregatorMetrics,
  CounterAggregatorOptions,
  CounterFlush,
  CounterFlushResult,
  ResolvedCounterAggregatorOptions,
} from './counter-aggregator';
export {
  createCounterAggregator,
  DEFAULT_COUNTER_AGGREGATOR_OPTIONS,
  resolveCounterAggregatorOptions,
} from './counter-aggregator';
export type {
  HotKeyDetector,
  HotKeyDetectorMetrics,
  HotKeyDetectorOptions,
  HotKeyEstimate,
  HotKeyEvent,
  HotKeyEventName,
  HotKeyListener,
  ResolvedHotKeyDetectorOptions,
} from './hot-key-detector';
export {
  createHotKeyDetector,
  DEFAULT_HOT_KEY_DETECTOR_OPTIONS,
  HOT_KEY_SLOT_OVERHEAD_BYTES,
  hotKeyDetectorStateBound,
  resolveHotKeyDetectorOptions,
} from './hot-key-detector';
export type {
  HotKeyPromotedStore,
  HotKeyPromotionMetrics,
  HotKeyPromotionOptions,
} from './hot-key-promotion';
export { DEFAULT_HOT_KEY_PROMOTION_OPTIONS, withHotKeyPromotion } from './hot-key-promotion';
export type {
  HotKeyReplicaMetrics,
  HotKeyReplicaOptions,
  HotKeyReplicatedStore,
  ReplicaNamer,
} from './hot-key-replicas';
export { DEFAULT_HOT_KEY_REPLICA_OPTIONS, suffixReplicaKeys, withHotKeyReplicas } from './hot-key-replicas';
