export { createMemoryStore, isMemoryStore } from './memory-store';
export type {
  EvictionMode,
  EvictionPolicy,
  KeyIndexKind,
  MemoryStoreOptions,
  ResolvedMemoryStoreOptions,
} from './options';
export {
  DEFAULT_MEMORY_STORE_OPTIONS,
  EVICTION_MODES,
  EVICTION_POLICIES,
  KEY_INDEX_KINDS,
  resolveMemoryStoreOptions,
} from './options';
export type {
  EvictListener,
  EvictReason,
  ExpireListener,
  MemoryStore,
  MemoryStoreEvents,
  MemoryStoreStats,
  SetOptions,
} from './types';
