import { createManualClock, isDcError, type ManualClock } from '@dc/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createCounterAggregator } from '../src/index';

function sleep(clock: ManualClock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimer(resolve, ms));
}

describe('createCounterAggregator', () => {
  it('flushes exactly 1,000,000 with a bounded number of flushes per key when 100 tasks increment concurrently', async () => {
    const clock = createManualClock(0);
    const flushIntervalMs = 20;
    const totals = new Map<string, number>();
    const callsPerKey = new Map<string, number>();
    const aggregator = createCounterAggregator({
      flushIntervalMs,
      maxPending: 1_000,
      clock,
      // A write that takes 3 ms of virtual time, so increments keep arriving while it is in flight.
      flush: (key, delta) =>
        new Promise<void>((resolve) =>
          clock.setTimer(() => {
            totals.set(key, (totals.get(key) ?? 0) + delta);
            callsPerKey.set(key, (callsPerKey.get(key) ?? 0) + 1);
            resolve();
          }, 3),
        ),
    });
    const keys = Array.from({ length: 20 }, (_, i) => `counter:${i}`);
    let done = 0;
    const task = async (id: number) => {
      for (let i = 0; i < 10_000; i++) {
        aggregator.increment(keys[(id + i) % keys.length] as string, 1);
        if (i % 100 === 99) await sleep(clock, 1 + (id % 7));
      }
      done++;
    };
    const start = clock.now();
    const tasks = Array.from({ length: 100 }, (_, id) => task(id));
    for (let step = 0; done < 100 && step < 10_000; step++) await clock.advanceAsync(1);
    await Promise.all(tasks);
    const closing = aggregator.close();
    for (let step = 0; step < 100 && aggregator.metrics().pendingKeys > 0; step++)
      await clock.advanceAsync(1);
    await closing;
    const duration = clock.now() - start;

    let total = 0;
    for (const value of totals.values()) total += value;
    expect(total).toBe(1_000_000);
    expect(aggregator.metrics()).toMatchObject({
      pendingKeys: 0,
      pendingIncrements: 0,
      flushedIncrements: 1_000_000,
    });
    const bound = Math.ceil(duration / flushIntervalMs) + 1;
    for (const key of keys) {
      expect(callsPerKey.get(key)).toBeGreaterThan(1);
      expect(callsPerKey.get(key)).toBeLessThanOrEqual(bound);
    }
  });

  it('keeps a failed delta and writes it with the next flush', async () => {
    const clock = createManualClock(0);
    const written: Array<[string, number]> = [];
    const errors: string[] = [];
    let fail = true;
    const aggregator = createCounterAggregator({
      flushIntervalMs: 100,
      clock,
      flush: async (key, delta) => {
        if (fail) throw new Error('redis down');
        written.push([key, delta]);
      },
      onError: (error, key, delta) => errors.push(`${key}:${delta}:${(error as Error).message}`),
    });
    aggregator.increment('views', 3);
    await clock.advanceAsync(100);
    expect(errors).toEqual(['views:3:redis down']);
    expect(aggregator.pending().get('views')).toBe(3);
    expect(aggregator.metrics()).toMatchObject({ pendingIncrements: 1, failedCalls: 1 });
    fail = false;
    aggregator.increment('views', 4);
    await clock.advanceAsync(100);
    expect(written).toEqual([['views', 7]]);
    expect(aggregator.metrics()).toMatchObject({
      pendingKeys: 0,
      pendingIncrements: 0,
      flushedIncrements: 2,
    });
    await aggregator.close();
  });

  it('flushes early when maxPending keys are waiting', async () => {
    const clock = createManualClock(0);
    const written: string[] = [];
    const aggregator = createCounterAggregator({
      flushIntervalMs: 60_000,
      maxPending: 3,
      clock,
      flush: (key) => void written.push(key),
    });
    aggregator.increment('a');
    aggregator.increment('b');
    await clock.advanceAsync(0);
    expect(written).toEqual([]);
    aggregator.increment('c');
    await clock.advanceAsync(0);
    expect(written.sort()).toEqual(['a', 'b', 'c']);
    await aggregator.close();
  });

  it('sums repeated increments into one call per key per interval', async () => {
    const clock = createManualClock(0);
    const calls: Array<[string, number]> = [];
    const aggregator = createCounterAggregator({
      flushIntervalMs: 1_000,
      clock,
      flush: (key, delta) => void calls.push([key, delta]),
    });
    for (let i = 0; i < 1_000; i++) aggregator.increment(i % 2 ? 'odd' : 'even', 2);
    aggregator.increment('even', -10);
    expect(calls).toEqual([]);
    await clock.advanceAsync(1_000);
    expect(calls.sort()).toEqual([
      ['even', 990],
      ['odd', 1_000],
    ]);
    await aggregator.close();
    expect(clock.pendingTimers()).toBe(0);
  });

  it('flushes on close, rejects later increments, and keeps keys that still fail', async () => {
    const clock = createManualClock(0);
    const written: Array<[string, number]> = [];
    const aggregator = createCounterAggregator({
      clock,
      flush: (key, delta) => {
        if (key === 'broken') throw new Error('nope');
        written.push([key, delta]);
      },
    });
    aggregator.increment('ok', 5);
    aggregator.increment('broken', 2);
    const error = await aggregator.close().catch((e: unknown) => e);
    expect(isDcError(error, 'E_STORE_UNAVAILABLE')).toBe(true);
    expect(written).toEqual([['ok', 5]]);
    expect([...aggregator.pending()]).toEqual([['broken', 2]]);
    expect(() => aggregator.increment('ok')).toThrow(expect.objectContaining({ code: 'E_CLOSED' }));
  });

  it('throws typed errors for bad options and increments', () => {
    const flush = () => undefined;
    const clock = createManualClock(0);
    for (const options of [
      { flush, flushIntervalMs: 0 },
      { flush, flushIntervalMs: Number.NaN },
      { flush, maxPending: 0 },
      { flush: 'x' },
    ]) {
      expect(() => createCounterAggregator({ clock, ...(options as { flush: () => undefined }) })).toThrow(
        expect.objectContaining({ code: 'E_INVALID_OPTION' }),
      );
    }
    const aggregator = createCounterAggregator({ clock, flush });
    expect(() => aggregator.increment('k', Number.POSITIVE_INFINITY)).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION' }),
    );
    expect(() => aggregator.increment('k', Number.NaN)).toThrow(/`by` must be a finite number/);
    expect(() => aggregator.increment('')).toThrow(expect.objectContaining({ code: 'E_INVALID_KEY' }));
    expect(aggregator.metrics().pendingIncrements).toBe(0);
  });

  it('never loses or duplicates an increment whatever the failures and timing (property, seed 6)', async () => {
    const step = fc.oneof(
      fc.record({
        kind: fc.constant('inc' as const),
        key: fc.constantFrom('a', 'b', 'c', 'd'),
        by: fc.integer({ min: -5, max: 50 }),
      }),
      fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 250 }) }),
      fc.record({ kind: fc.constant('fail' as const), on: fc.boolean() }),
      fc.record({ kind: fc.constant('flush' as const) }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { maxLength: 60 }),
        fc.integer({ min: 1, max: 4 }),
        async (steps, maxPending) => {
          const clock = createManualClock(0);
          const expected = new Map<string, number>();
          const flushed = new Map<string, number>();
          let failing = false;
          const aggregator = createCounterAggregator({
            flushIntervalMs: 100,
            maxPending,
            clock,
            flush: async (key, delta) => {
              await Promise.resolve();
              if (failing) throw new Error('down');
              flushed.set(key, (flushed.get(key) ?? 0) + delta);
            },
          });
          for (const s of steps) {
            if (s.kind === 'inc') {
              aggregator.increment(s.key, s.by);
              expected.set(s.key, (expected.get(s.key) ?? 0) + s.by);
            } else if (s.kind === 'advance') await clock.advanceAsync(s.ms);
            else if (s.kind === 'fail') failing = s.on;
            else await aggregator.flush();
          }
          failing = false;
          await aggregator.close();
          for (const key of new Set([...expected.keys(), ...flushed.keys()])) {
            expect(flushed.get(key) ?? 0).toBe(expected.get(key) ?? 0);
          }
          expect(aggregator.metrics().pendingIncrements).toBe(0);
        },
      ),
      { seed: 6, numRuns: 200 },
    );
  });
});
