import { createRequire } from 'node:module';
import type { Clock } from '@dc/core';
import { InvalidOptionError } from '@dc/core';
import type { L1Backend, RemovalListener, Slot } from './backend';

/** The part of node-cache 5 the backend uses (its own types stay out of our declarations). */
export interface NodeCacheLike {
  get(key: string): unknown;
  set(key: string, value: unknown, ttlSeconds: number): boolean;
  del(key: string): number;
  flushAll(): void;
  close(): void;
  on(event: 'expired', listener: (key: string, value: unknown) => void): unknown;
}

/** The node-cache constructor. */
export type NodeCacheConstructor = new (options: Record<string, unknown>) => NodeCacheLike;

/** Install hint used in the error when node-cache is missing. */
export const NODE_CACHE_INSTALL = 'npm install node-cache@^5';

/**
 * Loads node-cache on first use, so that the L1 has no hard dependency on it.
 * @throws InvalidOptionError (`backend`) when the package cannot be loaded.
 */
export function loadNodeCache(
  load: (id: string) => unknown = (id) => createRequire(import.meta.url)(id),
): NodeCacheConstructor {
  let loaded: unknown;
  try {
    loaded = load('node-cache');
  } catch (cause) {
    throw new InvalidOptionError(
      `[dc:l1] \`backend: 'node-cache'\` needs the optional peer dependency node-cache; install it with \`${NODE_CACHE_INSTALL}\``,
      { cause },
    );
  }
  const ctor = (loaded as { default?: unknown }).default ?? loaded;
  if (typeof ctor !== 'function') {
    throw new InvalidOptionError(
      `[dc:l1] \`backend: 'node-cache'\` loaded a node-cache without a constructor; install it with \`${NODE_CACHE_INSTALL}\``,
    );
  }
  return ctor as NodeCacheConstructor;
}

/** Options of {@link createNodeCacheBackend}. */
export interface NodeCacheBackendOptions {
  readonly NodeCache: NodeCacheConstructor;
  readonly maxEntries: number;
  readonly maxBytes: number;
  /** node-cache's own sweep of expired keys, in seconds of real time. */
  readonly checkPeriodSeconds: number;
  /** The L1's clock: node-cache expires in real time, the L1 deadline is checked against this. */
  readonly clock: Clock;
  readonly onRemove: RemovalListener;
}

// node-cache keeps entries in a plain object: `__proto__` would set its prototype and
// `constructor` would find Object.prototype's. Every key gets a one-character prefix.
const PREFIX = 'k';

/**
 * An {@link L1Backend} over node-cache. node-cache has no eviction policy and throws when
 * `maxKeys` is reached, so capacity is kept here in write order (FIFO: the entry written
 * longest ago goes first) with a byte tally per key. node-cache's own TTL and `checkperiod`
 * sweep run in real time and reclaim memory; the L1 deadline is checked with the L1's clock.
 */
export function createNodeCacheBackend<V>(options: NodeCacheBackendOptions): L1Backend<V> {
  const { NodeCache, maxEntries, maxBytes, clock, onRemove } = options;
  const cache = new NodeCache({
    useClones: false,
    stdTTL: 0,
    checkperiod: options.checkPeriodSeconds,
    deleteOnExpire: true,
  });
  // Write order and accounted bytes per key; the oldest write is first.
  const order = new Map<string, number>();
  let totalBytes = 0;

  cache.on('expired', (prefixed) => {
    const key = prefixed.slice(PREFIX.length);
    const bytes = order.get(key);
    if (bytes === undefined) return;
    order.delete(key);
    totalBytes -= bytes;
    onRemove(key, 'expire');
  });

  const forget = (key: string): boolean => {
    const bytes = order.get(key);
    if (bytes === undefined) return false;
    order.delete(key);
    totalBytes -= bytes;
    return true;
  };

  return {
    get(key) {
      const slot = cache.get(PREFIX + key) as Slot<V> | undefined;
      if (slot === undefined) return undefined;
      if (clock.now() < slot.deadline) return slot;
      forget(key);
      cache.del(PREFIX + key);
      onRemove(key, 'expire');
      return undefined;
    },
    set(key, entry, deadline, bytes) {
      forget(key);
      while (order.size > 0 && (order.size >= maxEntries || totalBytes + bytes > maxBytes)) {
        const oldest = order.keys().next().value as string;
        forget(oldest);
        cache.del(PREFIX + oldest);
        onRemove(oldest, 'evict');
      }
      const slot: Slot<V> = { entry, promise: undefined, deadline };
      // node-cache's own TTL (real time) only reclaims memory; `deadline` decides on reads.
      cache.set(PREFIX + key, slot, Math.max(deadline - clock.now(), 1) / 1000);
      order.set(key, bytes);
      totalBytes += bytes;
      return true;
    },
    delete(key) {
      if (!forget(key)) return false;
      const slot = cache.get(PREFIX + key) as Slot<V> | undefined;
      cache.del(PREFIX + key);
      return slot !== undefined && clock.now() < slot.deadline;
    },
    clear() {
      order.clear();
      totalBytes = 0;
      cache.flushAll();
    },
    size: () => order.size,
    bytes: () => totalBytes,
    keys: () => order.keys(),
    close() {
      cache.close();
    },
  };
}
