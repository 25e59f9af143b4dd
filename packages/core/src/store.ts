import type { CacheEntry } from './entry';
import { assertValidEntry } from './entry';
import { ClosedError } from './errors';
import { assertValidKey } from './validation';

/**
 * The async port every cache tier implements (memory, L1, Redis in every topology). A store
 * never returns an entry at or past its `expiresAt`.
 */
export interface CacheStore<V = unknown> {
  /** Short name used in metrics and error messages (`'l1'`, `'redis'`). */
  readonly name: string;
  /** The entry for `key`, or `undefined` on a miss or once it has expired. */
  get(key: string): Promise<CacheEntry<V> | undefined>;
  /** Stores `entry` under `key`, replacing any previous entry. */
  set(key: string, entry: CacheEntry<V>): Promise<void>;
  /** Removes `key`; resolves `true` when something was removed. */
  delete(key: string): Promise<boolean>;
  /** Removes every entry this store owns (its namespace only, for shared backends). */
  clear(): Promise<void>;
  /** Releases what the store created. A client the user passed in stays open. Idempotent. */
  close(): Promise<void>;
  /** Entries for `keys`, in the same order. */
  getMany(keys: readonly string[]): Promise<Array<CacheEntry<V> | undefined>>;
  /** Stores every `[key, entry]` pair. */
  setMany(entries: ReadonlyArray<readonly [string, CacheEntry<V>]>): Promise<void>;
  /** Removes every key; resolves the number removed. */
  deleteMany(keys: readonly string[]): Promise<number>;
}

/**
 * The synchronous face of an in-process store, so that an L1 hit costs no `await`.
 * Implemented alongside {@link CacheStore} by L1 stores.
 */
export interface SyncCacheStore<V = unknown> {
  getSync(key: string): CacheEntry<V> | undefined;
  setSync(key: string, entry: CacheEntry<V>): void;
  deleteSync(key: string): boolean;
}

/** True when `store` also offers the {@link SyncCacheStore} methods. */
export function isSyncCacheStore<V>(store: CacheStore<V>): store is CacheStore<V> & SyncCacheStore<V> {
  const candidate = store as Partial<SyncCacheStore<V>>;
  return (
    typeof candidate.getSync === 'function' &&
    typeof candidate.setSync === 'function' &&
    typeof candidate.deleteSync === 'function'
  );
}

/** Wraps a store and returns a store: namespacing, hot-key replicas, circuit breaking, tracing. */
export type StoreDecorator<V = unknown> = (store: CacheStore<V>) => CacheStore<V>;

/** What a backend must provide to {@link defineStore}; batch operations are optional. */
export interface StoreDefinition<V = unknown> {
  readonly name: string;
  get(key: string): Promise<CacheEntry<V> | undefined>;
  set(key: string, entry: CacheEntry<V>): Promise<void>;
  delete(key: string): Promise<boolean>;
  clear(): Promise<void>;
  close?(): Promise<void>;
  getMany?(keys: readonly string[]): Promise<Array<CacheEntry<V> | undefined>>;
  setMany?(entries: ReadonlyArray<readonly [string, CacheEntry<V>]>): Promise<void>;
  deleteMany?(keys: readonly string[]): Promise<number>;
}

/** Options for {@link defineStore}. */
export interface DefineStoreOptions {
  /** Longest key accepted (UTF-16 code units). @default DEFAULT_MAX_KEY_LENGTH */
  maxKeyLength?: number;
}

/**
 * Turns a backend into a full {@link CacheStore}: keys and entries are validated before any
 * I/O (a typed error, nothing written), missing batch operations are derived from the single
 * ones, and every call after `close()` rejects with `E_CLOSED`.
 */
export function defineStore<V>(
  definition: StoreDefinition<V>,
  options: DefineStoreOptions = {},
): CacheStore<V> {
  const scope = definition.name;
  const { maxKeyLength } = options;
  let closed = false;
  let closing: Promise<void> | undefined;

  // Validation throws synchronously; async wrappers turn that into a rejection, so callers see
  // one failure shape whether the input or the backend was at fault.
  const guard = (key: unknown): void => {
    if (closed) throw new ClosedError(`[dc:${scope}] store is closed`);
    assertValidKey(key, scope, maxKeyLength);
  };
  const guardKeys = (keys: readonly string[]): void => {
    if (closed) throw new ClosedError(`[dc:${scope}] store is closed`);
    for (const key of keys) assertValidKey(key, scope, maxKeyLength);
  };

  return {
    name: definition.name,
    async get(key) {
      guard(key);
      return definition.get(key);
    },
    async set(key, entry) {
      guard(key);
      assertValidEntry(entry, scope);
      return definition.set(key, entry);
    },
    async delete(key) {
      guard(key);
      return definition.delete(key);
    },
    async clear() {
      if (closed) throw new ClosedError(`[dc:${scope}] store is closed`);
      return definition.clear();
    },
    close() {
      closed = true;
      closing ??= definition.close ? definition.close() : Promise.resolve();
      return closing;
    },
    async getMany(keys) {
      guardKeys(keys);
      if (definition.getMany) return definition.getMany(keys);
      return Promise.all(keys.map((key) => definition.get(key)));
    },
    async setMany(entries) {
      guardKeys(entries.map(([key]) => key));
      for (const [, entry] of entries) assertValidEntry(entry, scope);
      if (definition.setMany) return definition.setMany(entries);
      await Promise.all(entries.map(([key, entry]) => definition.set(key, entry)));
    },
    async deleteMany(keys) {
      guardKeys(keys);
      if (definition.deleteMany) return definition.deleteMany(keys);
      const removed = await Promise.all(keys.map((key) => definition.delete(key)));
      return removed.filter(Boolean).length;
    },
  };
}
