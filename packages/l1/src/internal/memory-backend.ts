import type { Clock } from '@dc/core';
import type { MemoryStore } from '@dc/eviction';
import { createMemoryStore } from '@dc/eviction';
import type { CoarseClock } from '../coarse-clock';
import { createCoarseClock } from '../coarse-clock';
import type { L1KeyIndex, L1Policy } from '../l1-options';
import type { L1Backend, RemovalListener, Slot } from './backend';

/** Options of {@link MemoryBackend}. */
export interface MemoryBackendOptions {
  readonly maxEntries: number;
  readonly maxBytes: number;
  readonly policy: L1Policy;
  readonly keyIndex: L1KeyIndex;
  readonly clock: Clock;
  /** Reuse one clock reading on the hit path for this long (ms); 0: read it on every hit. */
  readonly clockResolutionMs: number;
  readonly onRemove: RemovalListener;
}

/**
 * An {@link L1Backend} over `@dc/eviction`'s bounded store (passive + sampled active expiry).
 * A class, so the L1's hit path calls a constant method V8 can inline.
 */
export class MemoryBackend<V> implements L1Backend<V> {
  private readonly store: MemoryStore<Slot<V>>;
  private readonly clock: Clock;
  /** `undefined` when every hit reads `clock` (`clockResolutionMs: 0`). */
  private readonly coarse: CoarseClock | undefined;
  private readonly guardMs: number;
  private readonly onRemove: RemovalListener;
  // One options object reused by every write: the L1 measures the entry itself.
  private readonly setOptions = { expiresAt: 1, size: 0 };

  constructor(options: MemoryBackendOptions) {
    const { maxEntries, maxBytes, policy, keyIndex, clock, clockResolutionMs, onRemove } = options;
    this.clock = clock;
    this.onRemove = onRemove;
    this.coarse =
      clockResolutionMs > 0 ? createCoarseClock({ clock, resolutionMs: clockResolutionMs }) : undefined;
    this.guardMs = this.coarse ? this.coarse.guardMs : 0;
    this.store = createMemoryStore<Slot<V>>({
      maxEntries,
      ...(Number.isFinite(maxBytes) ? { maxBytes, sizeOf: () => 0 } : {}),
      policy,
      keyIndex,
      // With a coarse clock the store judges expiry by a reading up to `guardMs` old; `get`
      // re-checks the deadlines that reading cannot vouch for.
      clock: this.coarse ?? clock,
    });
    this.store.on('evict', (key) => onRemove(key, 'evict'));
    this.store.on('expire', (key) => onRemove(key, 'expire'));
  }

  get(key: string): Slot<V> | undefined {
    const slot = this.store.get(key);
    if (slot === undefined) return undefined;
    const coarse = this.coarse;
    if (coarse === undefined) return slot;
    // The store has just judged `slot` by `coarse.now()`; a deadline more than `guardMs` past
    // that reading has not passed on the exact clock either.
    const reading = coarse.reading;
    if ((reading !== -1 && slot.deadline - reading > this.guardMs) || this.clock.now() < slot.deadline)
      return slot;
    this.store.delete(key);
    this.onRemove(key, 'expire');
    return undefined;
  }

  set(key: string, entry: Slot<V>['entry'], deadline: number, bytes: number): boolean {
    const setOptions = this.setOptions;
    setOptions.expiresAt = deadline;
    setOptions.size = bytes;
    return this.store.set(key, { entry, deadline, promise: undefined }, setOptions);
  }

  delete(key: string): boolean {
    return this.store.delete(key);
  }

  clear(): void {
    this.store.clear();
  }

  size(): number {
    return this.store.size;
  }

  bytes(): number {
    return this.store.bytes;
  }

  keys(): IterableIterator<string> {
    return this.store.keys();
  }

  close(): void {
    this.store.close();
    this.coarse?.close();
  }
}
