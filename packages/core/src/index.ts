export type { Clock, ManualClock, Random, TimerHandle } from './clock';
export { createManualClock, systemClock } from './clock';
export type { DataSource, DataSourceMethod } from './data-source';
export { assertDataSource } from './data-source';
export { describeValue } from './describe';
export type { Duration, ParseDurationOptions } from './duration';
export { parseDuration } from './duration';
export type { CacheEntry, CreateEntryOptions, EntryState } from './entry';
export { assertValidEntry, createEntry, entryState, isExpired } from './entry';
export type { DcErrorCode, DcErrorOptions } from './errors';
export {
  BackpressureError,
  CacheUnavailableError,
  CapacityError,
  ClosedError,
  DC_ERROR_CODES,
  DcError,
  InvalidKeyError,
  InvalidOptionError,
  isDcError,
  LoaderTimeoutError,
  LockError,
  SerializationError,
} from './errors';
export type { LoadContext, Loader, LoaderMiddleware } from './loader';
export { composeLoader } from './loader';
export type { JsonSerializerOptions, Serializer } from './serializer';
export { createJsonSerializer, DEFAULT_JSON_SERIALIZER_OPTIONS, jsonSerializer } from './serializer';
export type {
  CacheStore,
  DefineStoreOptions,
  StoreDecorator,
  StoreDefinition,
  SyncCacheStore,
} from './store';
export { defineStore, isSyncCacheStore } from './store';
export type { NumberBounds } from './validation';
export {
  assertCacheStore,
  assertClock,
  assertFiniteNumber,
  assertFunction,
  assertInteger,
  assertNonNegativeMs,
  assertOneOf,
  assertOptionsObject,
  assertTtlMs,
  assertValidKey,
  DEFAULT_MAX_KEY_LENGTH,
} from './validation';
