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
