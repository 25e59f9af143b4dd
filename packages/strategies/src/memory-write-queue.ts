import type { Clock } from '@dc/core';
import {
  assertInteger,
  assertNonNegativeMs,
  assertValidKey,
  BackpressureError,
  ClosedError,
  InvalidOptionError,
  systemClock,
} from '@dc/core';
import { assertClock, SCOPE, stripUndefined } from './internal/options';
import type { ClaimOptions, QueuedWrite, WriteQueue, WriteQueueStats, WriteRequest } from './write-queue';

/** Options for {@link createMemoryWriteQueue}. */
export interface MemoryWriteQueueOptions {
  /** Most unacked entries held; `enqueue` rejects with `E_BACKPRESSURE` beyond it. @default 10000 */
  maxSize?: number;
  /** Time source for `enqueuedAt` and idle times. @default systemClock */
  clock?: Clock;
}

/** Defaults of {@link MemoryWriteQueueOptions}. */
export const DEFAULT_MEMORY_WRITE_QUEUE_OPTIONS: Readonly<Required<MemoryWriteQueueOptions>> = Object.freeze({
  maxSize: 10_000,
  clock: systemClock,
});

/** Merges `options` over {@link DEFAULT_MEMORY_WRITE_QUEUE_OPTIONS} and validates them. */
export function resolveMemoryWriteQueueOptions(
  options: MemoryWriteQueueOptions = {},
): Readonly<Required<MemoryWriteQueueOptions>> {
  const resolved = { ...DEFAULT_MEMORY_WRITE_QUEUE_OPTIONS, ...stripUndefined(options) };
  assertInteger(resolved.maxSize, 'maxSize', 1, SCOPE);
  assertClock(resolved.clock);
  return Object.freeze(resolved);
}

interface Slot<V> {
  readonly write: WriteRequest<V>;
  readonly version: number;
  readonly enqueuedAt: number;
  deliveries: number;
  deliveredAt: number;
  owner: string | undefined;
}

/**
 * A {@link WriteQueue} held in this process's memory. **Lossy on crash**: entries vanish with
 * the process (and on `close()`); use the Redis Streams queue from `@dc/redis-adapter` for
 * writes that must survive a crash.
 */
export function createMemoryWriteQueue<V = unknown>(options: MemoryWriteQueueOptions = {}): WriteQueue<V> {
  const { maxSize, clock } = resolveMemoryWriteQueueOptions(options);
  // Both maps iterate in insertion order: `slots` by version, `claimed` by last delivery time
  // (a re-delivery moves the slot to the end), so scans can stop at the first non-match.
  const slots = new Map<number, Slot<V>>();
  const claimed = new Map<number, Slot<V>>();
  let fresh: number[] = [];
  let freshHead = 0;
  let lastVersion = 0;
  let closed = false;

  const assertOpen = (): void => {
    if (closed) throw new ClosedError(`[dc:${SCOPE}] the memory write queue is closed`);
  };
  // A fresh plain object per hand-out, so a consumer can never mutate the stored slot.
  const view = (slot: Slot<V>): QueuedWrite<V> => {
    const { write } = slot;
    return write.op === 'set'
      ? {
          key: write.key,
          op: 'set',
          value: write.value,
          version: slot.version,
          enqueuedAt: slot.enqueuedAt,
          deliveries: slot.deliveries,
        }
      : {
          key: write.key,
          op: 'delete',
          version: slot.version,
          enqueuedAt: slot.enqueuedAt,
          deliveries: slot.deliveries,
        };
  };
  const deliver = (slot: Slot<V>, consumer: string, now: number): QueuedWrite<V> => {
    slot.owner = consumer;
    slot.deliveredAt = now;
    slot.deliveries += 1;
    claimed.delete(slot.version);
    claimed.set(slot.version, slot);
    return view(slot);
  };

  return {
    name: 'memory',
    async enqueue(write) {
      assertOpen();
      assertValidKey(write?.key, SCOPE);
      if (write.op !== 'set' && write.op !== 'delete') {
        throw new InvalidOptionError(
          `[dc:${SCOPE}] a queued write's \`op\` must be 'set' or 'delete', got ${String((write as { op: unknown }).op)}`,
        );
      }
      if (slots.size >= maxSize) {
        throw new BackpressureError(
          `[dc:${SCOPE}] the write queue is full (maxSize ${maxSize}); retry later, raise \`maxQueueSize\`, or use backpressure 'write-through'`,
        );
      }
      lastVersion += 1;
      const stored: WriteRequest<V> =
        write.op === 'set'
          ? { key: write.key, op: 'set', value: write.value }
          : { key: write.key, op: 'delete' };
      const slot: Slot<V> = {
        write: stored,
        version: lastVersion,
        enqueuedAt: clock.now(),
        deliveries: 0,
        deliveredAt: 0,
        owner: undefined,
      };
      slots.set(slot.version, slot);
      fresh.push(slot.version);
      return view(slot);
    },

    async claim(consumer, claimOptions: ClaimOptions) {
      assertOpen();
      if (typeof consumer !== 'string' || consumer.length === 0) {
        throw new InvalidOptionError(`[dc:${SCOPE}] \`consumer\` must be a non-empty string`);
      }
      assertInteger(claimOptions?.count, 'count', 1, SCOPE);
      const { count, minIdleMs } = claimOptions;
      if (minIdleMs !== undefined) assertNonNegativeMs(minIdleMs, 'minIdleMs', SCOPE);
      const now = clock.now();
      const out: QueuedWrite<V>[] = [];
      if (minIdleMs !== undefined) {
        const idle: Slot<V>[] = [];
        for (const slot of claimed.values()) {
          if (idle.length >= count || now - slot.deliveredAt < minIdleMs) break;
          idle.push(slot);
        }
        for (const slot of idle) out.push(deliver(slot, consumer, now));
      }
      while (out.length < count && freshHead < fresh.length) {
        const version = fresh[freshHead++] as number;
        const slot = slots.get(version);
        if (slot !== undefined && slot.owner === undefined) out.push(deliver(slot, consumer, now));
      }
      if (freshHead > 1024 && freshHead * 2 > fresh.length) {
        fresh = fresh.slice(freshHead);
        freshHead = 0;
      }
      return out;
    },

    async ack(versions) {
      assertOpen();
      let removed = 0;
      for (const version of versions) {
        if (slots.delete(version)) removed += 1;
        claimed.delete(version);
      }
      return removed;
    },

    async pending(): Promise<WriteQueueStats> {
      assertOpen();
      const oldest = slots.values().next();
      return {
        depth: slots.size,
        inFlight: claimed.size,
        oldestEnqueuedAt: oldest.done ? undefined : oldest.value.enqueuedAt,
      };
    },

    async close() {
      closed = true;
      slots.clear();
      claimed.clear();
      fresh = [];
      freshHead = 0;
    },
  };
}
