import { createManualClock, isDcError } from '@dc/core';
import { describe, expect, it } from 'vitest';
import { createMemoryWriteQueue, resolveMemoryWriteQueueOptions } from '../src/index';
import { runWriteQueueContract } from './write-queue-contract';

runWriteQueueContract('memory', ({ maxSize }) => {
  const clock = createManualClock(1_000_000);
  const queue = createMemoryWriteQueue({ maxSize, clock });
  return { queue, elapse: async (ms) => clock.advance(ms) };
});

describe('createMemoryWriteQueue', () => {
  it('loses its entries on close when the process would go away (lossy by design)', async () => {
    const queue = createMemoryWriteQueue({ clock: createManualClock() });
    await queue.enqueue({ key: 'k', op: 'set', value: 1 });
    await queue.close();
    const error = await queue.pending().catch((e: unknown) => e);
    expect(isDcError(error, 'E_CLOSED')).toBe(true);
  });

  it('stays correct when many entries are claimed and acked in rounds', async () => {
    const clock = createManualClock();
    const queue = createMemoryWriteQueue<number>({ maxSize: 5_000, clock });
    for (let i = 0; i < 5_000; i++) await queue.enqueue({ key: `k${i % 17}`, op: 'set', value: i });
    let seen = 0;
    for (let round = 0; round < 100; round++) {
      const batch = await queue.claim('c', { count: 64 });
      if (batch.length === 0) break;
      seen += batch.length;
      expect(await queue.ack(batch.map((w) => w.version))).toBe(batch.length);
    }
    expect(seen).toBe(5_000);
    expect(await queue.pending()).toEqual({ depth: 0, inFlight: 0, oldestEnqueuedAt: undefined });
  });
});

describe('resolveMemoryWriteQueueOptions', () => {
  it('throws E_INVALID_OPTION naming maxSize when it is below 1', () => {
    expect(() => resolveMemoryWriteQueueOptions({ maxSize: 0 })).toThrow(/`maxSize` must be an integer >= 1/);
  });

  it('throws E_INVALID_OPTION when the clock has no setTimer', () => {
    const clock = { now: () => 0 } as never;
    let error: unknown;
    try {
      resolveMemoryWriteQueueOptions({ clock });
    } catch (e) {
      error = e;
    }
    expect(isDcError(error, 'E_INVALID_OPTION')).toBe(true);
  });
});
