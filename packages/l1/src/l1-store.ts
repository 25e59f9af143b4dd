import type { CacheEntry, CacheStore, SyncCacheStore } from '@dc/core';
import {
  assertValidEntry,
  assertValidKey,
  CapacityError,
  ClosedError,
  describeValue,
  InvalidOptionError,
  SerializationError,
} from '@dc/core';
import type { InvalidationLink } from './attach-invalidation-bus';
import { attachInvalidationBus } from './attach-invalidation-bus';
import type { L1Backend, RemovalCause, Slot } from './internal/backend';
import { ChangeLog } from './internal/change-log';
import type { Attachment, ChangeListener } from './internal/l1-internals';
import { registerL1Internals } from './internal/l1-internals';
import { MemoryBackend } from './internal/memory-backend';
import { createNodeCacheBackend, loadNodeCache } from './internal/node-cache-backend';
import type { L1BackendName, L1StoreOptions } from './l1-options';
import { resolveL1StoreOptions } from './l1-options';
import { ENTRY_OVERHEAD_BYTES } from './size-of';

const RESOLVED_MISS: Promise<undefined> = Promise.resolve(undefined);

/** A version of the L1 taken by {@link L1Store.beginFill}. */
export type FillToken = number;

/** Counters of an L1 since it was created. */
export interface L1Stats {
  readonly hits: number;
  readonly misses: number;
  /** Writes through `set`/`setSync`/`setMany`. */
  readonly sets: number;
  /** Entries stored by `fillSync`. */
  readonly fills: number;
  /** `fillSync` calls refused because the key changed after the token. */
  readonly fillsRefused: number;
  readonly deletes: number;
  /** Keys evicted because another instance changed them (invalidation bus). */
  readonly invalidations: number;
  /** Entries dropped to stay within `maxEntries`/`maxBytes`. */
  readonly evictions: number;
  /** Entries dropped because they reached their TTL or `expiresAt`. */
  readonly expirations: number;
  /** Entries held now. */
  readonly size: number;
  /** Accounted bytes held now. */
  readonly bytes: number;
}

/**
 * The in-process cache tier: a {@link CacheStore} and a {@link SyncCacheStore} whose hit path
 * is one map lookup and, with the default `clockResolutionMs`, a clock read about once per
 * millisecond. Never returns an entry at or past its `expiresAt` (see `clockResolutionMs` for
 * the one exception: an event loop blocked for more than ~16 ms).
 *
 * Writes (`set*`, `delete*`, `clear`) notify an attached invalidation bus; `fillSync` stores
 * what was read from a lower tier without notifying anyone.
 */
export interface L1Store<V = unknown> extends CacheStore<V>, SyncCacheStore<V> {
  /** The `name` option (`'l1'`), used in errors and metrics. */
  readonly name: string;
  /** The storage engine in use. */
  readonly backend: L1BackendName;
  /** Entries held (may count expired entries not yet reclaimed). */
  readonly size: number;
  /** Accounted bytes held. */
  readonly bytes: number;
  /**
   * The entry for `key` or `undefined`. Synchronous: an L1 hit costs no `await`.
   * @throws InvalidKeyError for an empty, non-string or too long key; ClosedError after `close()`.
   */
  getSync(key: string): CacheEntry<V> | undefined;
  /**
   * Stores `entry` as a local write (notifies the bus). An entry already past `expiresAt`
   * removes the key instead.
   * @throws InvalidKeyError, InvalidOptionError (malformed entry), CapacityError (entry above
   *   `maxEntryBytes`/`maxBytes`: refused, the key's previous entry removed, nothing evicted),
   *   SerializationError (`cloneValues` and an uncloneable value), ClosedError.
   */
  setSync(key: string, entry: CacheEntry<V>): void;
  /** Removes `key` as a local write (notifies the bus); `true` when something was removed. */
  deleteSync(key: string): boolean;
  /** Removes every entry as a local write (notifies the bus). */
  clearSync(): void;
  /**
   * A token for {@link L1Store.fillSync}: take it before reading a lower tier or running a
   * loader for a key.
   */
  beginFill(): FillToken;
  /**
   * Stores `entry` read from a lower tier (no bus notification). With `token`, the fill is
   * refused (returns `false`, nothing stored) when the key was written, deleted or invalidated
   * after {@link L1Store.beginFill} returned it, so a slow load cannot resurrect a deleted or
   * overwritten value. Also `false` for an entry already past `expiresAt` or too large (the
   * key's older entry is then removed).
   */
  fillSync(key: string, entry: CacheEntry<V>, token?: FillToken): boolean;
  /** Keys held (may include expired entries not yet reclaimed). */
  keys(): IterableIterator<string>;
  /** Counters since creation. */
  stats(): L1Stats;
  /** The bus link made from the `invalidation` option, if any. */
  readonly invalidation: InvalidationLink | undefined;
}

/**
 * Creates an L1 store.
 *
 * ```ts
 * const l1 = createL1Store<User>({ defaultTtlMs: 2_000, maxEntries: 10_000 });
 * l1.setSync('user:1', createEntry(user, { now: Date.now(), ttlMs: 60_000 }));
 * l1.getSync('user:1')?.value; // user, for at most 2 s
 * ```
 * @throws InvalidOptionError naming a bad option, or when `backend: 'node-cache'` is asked
 *   for and node-cache is not installed.
 */
export function createL1Store<V = unknown>(options: L1StoreOptions<V> = {}): L1Store<V> {
  const resolved = resolveL1StoreOptions(options);
  const { name, clock, defaultTtlMs, maxKeyLength, cloneValues, sizeOf, maxBytes } = resolved;
  const maxEntryBytes = Math.min(resolved.maxEntryBytes, maxBytes);
  const entryLimitName = resolved.maxEntryBytes <= maxBytes ? 'maxEntryBytes' : 'maxBytes';
  const measure = Number.isFinite(maxEntryBytes);
  const scope = name;

  let hits = 0;
  let misses = 0;
  let sets = 0;
  let fills = 0;
  let fillsRefused = 0;
  let deletes = 0;
  let invalidations = 0;
  let evictions = 0;
  let expirations = 0;
  let closed = false;
  let closing: Promise<void> | undefined;
  let listener: ChangeListener | undefined;
  let attachment: Attachment | undefined;
  const changes = new ChangeLog(resolved.maxTrackedChanges);

  const onRemove = (_key: string, cause: RemovalCause): void => {
    if (cause === 'evict') evictions++;
    else expirations++;
  };
  // The memory backend is also held by its class type so the hit path calls `memory.get`, a
  // constant method V8 inlines, even when node-cache L1s exist in the same process.
  const memory =
    resolved.backend === 'memory'
      ? new MemoryBackend<V>({
          maxEntries: resolved.maxEntries,
          maxBytes,
          policy: resolved.policy,
          keyIndex: resolved.keyIndex,
          clock,
          clockResolutionMs: resolved.clockResolutionMs,
          onRemove,
        })
      : undefined;
  const backend: L1Backend<V> =
    memory ??
    createNodeCacheBackend<V>({
      NodeCache: loadNodeCache(),
      maxEntries: resolved.maxEntries,
      maxBytes,
      checkPeriodSeconds: Math.max(1, Math.ceil(defaultTtlMs / 1000)),
      clock,
      onRemove,
    });

  const closedError = () => new ClosedError(`[dc:${scope}] store is closed`);

  const checkKey = (key: unknown): void => {
    if (closed) throw closedError();
    if (typeof key !== 'string' || key.length === 0 || key.length > maxKeyLength)
      assertValidKey(key, scope, maxKeyLength);
  };

  const cloneValue = (value: V): V => {
    try {
      return structuredClone(value);
    } catch (cause) {
      throw new SerializationError(
        `[dc:${scope}] \`cloneValues\` is on and the value cannot be copied by structuredClone; store plain data or turn \`cloneValues\` off`,
        { cause },
      );
    }
  };

  const sizeOfEntry = (key: string, entry: CacheEntry<V>): number => {
    if (!measure) return 0;
    const valueBytes = sizeOf(entry.value, key);
    if (typeof valueBytes !== 'number' || !Number.isFinite(valueBytes) || valueBytes < 0) {
      throw new InvalidOptionError(
        `[dc:${scope}] \`sizeOf\` must return a finite number of bytes >= 0, got ${describeValue(valueBytes)}`,
      );
    }
    return ENTRY_OVERHEAD_BYTES + 2 * key.length + valueBytes;
  };

  const oversize = (key: string, bytes: number): CapacityError =>
    new CapacityError(
      `[dc:${scope}] the entry for ${describeValue(key)} takes ${bytes} bytes, more than \`${entryLimitName}\` (${maxEntryBytes}); it was not cached`,
    );

  /** Validates a write before any of it happens; returns its byte size. */
  const prepare = (key: string, entry: CacheEntry<V>): number => {
    checkKey(key);
    assertValidEntry(entry, scope);
    return sizeOfEntry(key, entry);
  };

  /** Stores a validated entry; `false` when it was already expired or the policy refused it. */
  const store = (key: string, entry: CacheEntry<V>, bytes: number): boolean => {
    const now = clock.now();
    const remainingMs = entry.expiresAt - now;
    if (remainingMs <= 0) {
      backend.delete(key);
      return false;
    }
    const stored = cloneValues ? { ...entry, value: cloneValue(entry.value) } : entry;
    if (backend.set(key, stored, remainingMs <= defaultTtlMs ? entry.expiresAt : now + defaultTtlMs, bytes))
      return true;
    // Refused by admission: whatever the key held before is older than this write.
    backend.delete(key);
    return false;
  };

  const write = (key: string, entry: CacheEntry<V>, bytes: number): void => {
    changes.record(key);
    if (bytes > maxEntryBytes) {
      // The write happened: the older entry must not be served in its place.
      backend.delete(key);
      listener?.keysChanged([key]);
      throw oversize(key, bytes);
    }
    store(key, entry, bytes);
    sets++;
  };

  const lookup = (key: string): Slot<V> | undefined => {
    if (closed || typeof key !== 'string' || key.length === 0 || key.length > maxKeyLength) checkKey(key);
    // The backend checks the deadline (never after `expiresAt`) with this store's clock, so a
    // hit reads the clock once.
    const slot = memory !== undefined ? memory.get(key) : backend.get(key);
    if (slot === undefined) misses++;
    else hits++;
    return slot;
  };

  const getSync = (key: string): CacheEntry<V> | undefined => {
    // `lookup` written out: the hottest path of the package.
    if (closed || typeof key !== 'string' || key.length === 0 || key.length > maxKeyLength) checkKey(key);
    const slot = memory !== undefined ? memory.get(key) : backend.get(key);
    if (slot === undefined) {
      misses++;
      return undefined;
    }
    hits++;
    return cloneValues ? { ...slot.entry, value: cloneValue(slot.entry.value) } : slot.entry;
  };

  const setSync = (key: string, entry: CacheEntry<V>): void => {
    const bytes = prepare(key, entry);
    write(key, entry, bytes);
    listener?.keysChanged([key]);
  };

  const deleteSync = (key: string): boolean => {
    checkKey(key);
    changes.record(key);
    const removed = backend.delete(key);
    if (removed) deletes++;
    listener?.keysChanged([key]);
    return removed;
  };

  const clearSync = (): void => {
    if (closed) throw closedError();
    changes.recordAll();
    backend.clear();
    listener?.cleared();
  };

  const fillSync = (key: string, entry: CacheEntry<V>, token?: FillToken): boolean => {
    const bytes = prepare(key, entry);
    if (token !== undefined && !changes.unchangedSince(key, token)) {
      fillsRefused++;
      return false;
    }
    if (bytes > maxEntryBytes) {
      // What the L1 holds for the key is older than what the lower tier just returned.
      backend.delete(key);
      return false;
    }
    if (!store(key, entry, bytes)) return false;
    fills++;
    return true;
  };

  const prepareMany = (entries: ReadonlyArray<readonly [string, CacheEntry<V>]>): number[] => {
    const sizes = entries.map(([key, entry]) => prepare(key, entry));
    sizes.forEach((bytes, i) => {
      if (bytes > maxEntryBytes) throw oversize((entries[i] as readonly [string, unknown])[0], bytes);
    });
    return sizes;
  };

  const l1: L1Store<V> = {
    name,
    backend: resolved.backend,
    get size() {
      return backend.size();
    },
    get bytes() {
      return backend.bytes();
    },
    invalidation: undefined,
    getSync,
    setSync,
    deleteSync,
    clearSync,
    fillSync,
    beginFill: () => changes.current(),
    keys: () => backend.keys(),
    stats: () => ({
      hits,
      misses,
      sets,
      fills,
      fillsRefused,
      deletes,
      invalidations,
      evictions,
      expirations,
      size: backend.size(),
      bytes: backend.bytes(),
    }),
    // The async face runs the sync methods and settles at once: no `async` function, so no
    // extra promise or microtask, and bad input still becomes a rejection rather than a throw.
    get(key) {
      try {
        if (cloneValues) return Promise.resolve(getSync(key));
        const slot = lookup(key);
        if (slot === undefined) return RESOLVED_MISS;
        // A settled promise is immutable, so every awaited hit of this entry can share one.
        if (slot.promise === undefined) slot.promise = Promise.resolve(slot.entry);
        return slot.promise;
      } catch (error) {
        return Promise.reject(error);
      }
    },
    set(key, entry) {
      try {
        setSync(key, entry);
        return Promise.resolve();
      } catch (error) {
        return Promise.reject(error);
      }
    },
    delete(key) {
      try {
        return Promise.resolve(deleteSync(key));
      } catch (error) {
        return Promise.reject(error);
      }
    },
    clear() {
      try {
        clearSync();
        return Promise.resolve();
      } catch (error) {
        return Promise.reject(error);
      }
    },
    getMany(keys) {
      try {
        for (const key of keys) checkKey(key);
        return Promise.resolve(keys.map(getSync));
      } catch (error) {
        return Promise.reject(error);
      }
    },
    setMany(entries) {
      try {
        const sizes = prepareMany(entries);
        entries.forEach(([key, entry], i) => {
          write(key, entry, sizes[i] as number);
        });
        if (entries.length > 0) listener?.keysChanged(entries.map(([key]) => key));
        return Promise.resolve();
      } catch (error) {
        return Promise.reject(error);
      }
    },
    deleteMany(keys) {
      try {
        for (const key of keys) checkKey(key);
        let removed = 0;
        for (const key of keys) {
          changes.record(key);
          if (backend.delete(key)) removed++;
        }
        deletes += removed;
        if (keys.length > 0) listener?.keysChanged(keys);
        return Promise.resolve(removed);
      } catch (error) {
        return Promise.reject(error);
      }
    },
    close() {
      if (closing) return closing;
      closed = true;
      // Detaching cancels the retry timer now; only its last publish attempt is awaited.
      const detaching = attachment ? attachment.detach() : Promise.resolve();
      backend.clear();
      backend.close();
      closing = detaching.then(() => undefined);
      return closing;
    },
  };

  registerL1Internals(l1, {
    clock,
    scope,
    setAttachment(next) {
      attachment = next;
      listener = next?.listener;
    },
    hasAttachment: () => attachment !== undefined,
    invalidateLocal(keys) {
      if (closed) return;
      for (const key of keys) {
        changes.record(key);
        if (backend.delete(key)) invalidations++;
      }
    },
    clearLocal() {
      if (closed) return;
      changes.recordAll();
      invalidations += backend.size();
      backend.clear();
    },
    isClosed: () => closed,
  });

  if (resolved.invalidation) {
    const { bus, ...linkOptions } = resolved.invalidation;
    (l1 as { invalidation: InvalidationLink | undefined }).invalidation = attachInvalidationBus(l1, bus, {
      clock,
      ...linkOptions,
    });
  }
  return l1;
}
