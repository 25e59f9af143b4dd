import { createManualClock, isDcError } from '@dc/core';
import fc from 'fast-check';
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

// Property: under any interleaving of enqueue / claim / ack / idle time, the queue loses nothing
// and duplicates nothing: every unacked entry is eventually handed out, an acked entry never is,
// and depth always equals enqueued minus acked.
const QUEUE_SEED = 777;

type QueueStep =
  | { readonly kind: 'enqueue'; readonly key: string }
  | { readonly kind: 'claim'; readonly consumer: string; readonly count: number; readonly reclaim: boolean }
  | { readonly kind: 'ack'; readonly pick: number }
  | { readonly kind: 'elapse'; readonly ms: number };

const queueStepArb: fc.Arbitrary<QueueStep> = fc.oneof(
  fc.constantFrom('a', 'b', 'c').map((key) => ({ kind: 'enqueue', key }) as const),
  fc
    .record({
      consumer: fc.constantFrom('c1', 'c2'),
      count: fc.integer({ min: 1, max: 4 }),
      reclaim: fc.boolean(),
    })
    .map((r) => ({ kind: 'claim', ...r }) as const),
  fc.nat({ max: 50 }).map((pick) => ({ kind: 'ack', pick }) as const),
  fc.integer({ min: 1, max: 300 }).map((ms) => ({ kind: 'elapse', ms }) as const),
);

describe('createMemoryWriteQueue property', () => {
  it('never loses, duplicates or resurrects an entry under random enqueue/claim/ack/idle sequences', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(queueStepArb, { maxLength: 80 }), async (steps) => {
        const clock = createManualClock(0);
        const queue = createMemoryWriteQueue<number>({ clock, maxSize: 30 });
        const unacked = new Set<number>();
        const acked = new Set<number>();
        const delivered = new Map<number, number>();
        let lastVersion = 0;
        let n = 0;
        for (const step of steps) {
          if (step.kind === 'enqueue') {
            const full = unacked.size >= 30;
            const result = await queue
              .enqueue({ key: step.key, op: 'set', value: n++ })
              .catch((e: unknown) => e);
            if (full) {
              if (!isDcError(result, 'E_BACKPRESSURE')) return false;
              continue;
            }
            const written = result as { version: number };
            if (written.version <= lastVersion) return false;
            lastVersion = written.version;
            unacked.add(written.version);
          } else if (step.kind === 'claim') {
            const options = step.reclaim ? { count: step.count, minIdleMs: 200 } : { count: step.count };
            const batch = await queue.claim(step.consumer, options);
            if (batch.length > step.count) return false;
            for (const w of batch) {
              if (acked.has(w.version) || !unacked.has(w.version)) return false;
              delivered.set(w.version, (delivered.get(w.version) ?? 0) + 1);
              if (w.deliveries !== delivered.get(w.version)) return false;
            }
          } else if (step.kind === 'ack') {
            const versions = [...unacked];
            const version = versions[step.pick % Math.max(1, versions.length)];
            if (version === undefined) continue;
            if ((await queue.ack([version])) !== 1) return false;
            unacked.delete(version);
            acked.add(version);
          } else {
            clock.advance(step.ms);
          }
          if ((await queue.pending()).depth !== unacked.size) return false;
        }
        // Drain: fresh entries, then (after idle time) every claimed one, each exactly once more.
        clock.advance(1_000);
        const rest = await queue.claim('drain', { count: 1_000, minIdleMs: 200 });
        const seen = rest.map((w) => w.version).sort((x, y) => x - y);
        return JSON.stringify(seen) === JSON.stringify([...unacked].sort((x, y) => x - y));
      }),
      { seed: QUEUE_SEED, numRuns: 300 },
    );
  });
});
