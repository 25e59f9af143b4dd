import type { Clock } from '@dc/core';
import { createMemoryStore } from '@dc/eviction';
import type { L1Policy } from '../l1-options';
import type { L1Backend, RemovalListener, Slot } from './backend';

/** Options of {@link createMemoryBackend}. */
export interface MemoryBackendOptions {
  readonly maxEntries: number;
  readonly maxBytes: number;
  readonly policy: L1Policy;
  readonly clock: Clock;
  readonly onRemove: RemovalListener;
}

/** An {@link L1Backend} over `@dc/eviction`'s bounded store (passive + sampled active expiry). */
export function createMemoryBackend<V>(options: MemoryBackendOptions): L1Backend<V> {
  const { maxEntries, maxBytes, policy, clock, onRemove } = options;
  const store = createMemoryStore<Slot<V>>({
    maxEntries,
    ...(Number.isFinite(maxBytes) ? { maxBytes, sizeOf: () => 0 } : {}),
    policy,
    clock,
  });
  store.on('evict', (key) => onRemove(key, 'evict'));
  store.on('expire', (key) => onRemove(key, 'expire'));
  // One options object reused by every write: the L1 measures the entry itself.
  const setOptions = { expiresAt: 1, size: 0 };
  return {
    get: (key) => store.get(key),
    set(key, entry, deadline, bytes) {
      setOptions.expiresAt = deadline;
      setOptions.size = bytes;
      const slot: Slot<V> = { entry, promise: undefined };
      return store.set(key, slot, setOptions);
    },
    delete: (key) => store.delete(key),
    clear: () => store.clear(),
    size: () => store.size,
    bytes: () => store.bytes,
    keys: () => store.keys(),
    close: () => store.close(),
  };
}
