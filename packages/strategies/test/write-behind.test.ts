import type { ManualClock } from '@dc/core';
import { createManualClock, isDcError } from '@dc/core';
import { createTestStore, seededRandom, type TestStore } from '@dc/testkit';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { StrategyEvent, WriteBehind, WriteBehindOptions } from '../src/index';
import { createMemoryWriteQueue, createWriteBehind, resolveWriteBehindOptions } from '../src/index';
import { withFaults } from './faulty-store';
import type { MapSource } from './map-source';
import { createMapSource } from './map-source';
import { createSqliteSource } from './sqlite-source';

interface Rig {
  clock: ManualClock;
  store: TestStore<string>;
  source: MapSource<string>;
  wb: WriteBehind<string>;
  events: StrategyEvent[];
}

const open: WriteBehind<string>[] = [];
afterEach(async () => {
  for (const wb of open.splice(0)) await wb.close({ timeoutMs: 0 });
});

function rig(options: Partial<WriteBehindOptions<string>> = {}, batch = true): Rig {
  const clock = (options.clock as ManualClock | undefined) ?? createManualClock(1_000_000);
  const store = createTestStore<string>({ clock: clock });
  const source = createMapSource<string>({ batch });
  const events: StrategyEvent[] = [];
  const wb = createWriteBehind<string>({
    store,
    dataSource: source,
    ttlMs: 600_000,
    flushIntervalMs: 100,
    retryBaseDelayMs: 100,
    clock,
    random: seededRandom(3),
    onEvent: (e) => events.push(e),
    ...options,
  });
  open.push(wb);
  return { clock, store, source, wb, events };
}

/** Advances virtual time in `stepMs` steps until the queue is empty (bounded). */
async function drain(r: Rig, stepMs = 100, maxSteps = 1_000): Promise<void> {
  for (let i = 0; i < maxSteps; i++) {
    if ((await r.wb.metrics()).depth === 0) return;
    await r.clock.advanceAsync(stepMs);
  }
  throw new Error('queue did not drain');
}

describe('createWriteBehind', () => {
  it('acknowledges once the cache and the queue accepted, and writes the source on the next flush', async () => {
    const r = rig();
    await r.wb.set('k', 'v1');
    expect(r.store.entries.get('k')?.value).toBe('v1');
    expect(r.source.data.has('k')).toBe(false);
    expect(await r.wb.get('k')).toBe('v1');
    await r.clock.advanceAsync(99);
    expect(r.source.data.has('k')).toBe(false);
    await r.clock.advanceAsync(1);
    expect(r.source.data.get('k')).toBe('v1');
    expect(await r.wb.metrics()).toMatchObject({ depth: 0, enqueued: 1, flushed: 1, sourceWrites: 1 });
  });

  it('writes at most 1 + ceil(2 s / flushIntervalMs) times and ends on the newest value when 1,000 updates to one key arrive during a 2 s outage', async () => {
    const flushIntervalMs = 100;
    const r = rig({ flushIntervalMs, retryBaseDelayMs: flushIntervalMs, batchSize: 100 });
    r.source.down = true;
    for (let i = 0; i < 1_000; i++) {
      await r.wb.set('hot', `v${i}`);
      await r.clock.advanceAsync(2);
    }
    r.source.down = false;
    await drain(r);
    const writes = r.source.attempts.saves;
    expect(writes).toBeLessThanOrEqual(1 + Math.ceil(2_000 / flushIntervalMs));
    expect(writes).toBeGreaterThanOrEqual(2);
    expect(r.source.data.get('hot')).toBe('v999');
    const metrics = await r.wb.metrics();
    expect(metrics).toMatchObject({ depth: 0, enqueued: 1_000, flushed: 1_000, failed: 0, rejected: 0 });
    expect(metrics.retried).toBeGreaterThan(0);
    expect(metrics.coalesced).toBe(999);
  });

  it('leaves the key deleted when a delete follows queued writes', async () => {
    const r = rig();
    await r.source.save('k', 'db');
    r.source.log.length = 0;
    await r.wb.set('k', 'v1');
    await r.wb.set('k', 'v2');
    await r.wb.delete('k');
    expect(r.store.entries.has('k')).toBe(false);
    expect(await r.wb.get('k')).toBeUndefined();
    await drain(r);
    expect(r.source.data.has('k')).toBe(false);
    expect(r.source.log).toEqual([['delete', 'k']]);
    expect(await r.wb.get('k')).toBeUndefined();
  });

  it('never resurrects a deleted key from an older write reclaimed from a dead consumer', async () => {
    const clock = createManualClock(0);
    const queue = createMemoryWriteQueue<string>({ clock });
    const r = rig({ clock, queue, claimIdleMs: 1_000 });
    await r.wb.set('k', 'old');
    // Another flusher takes the write and dies before applying it.
    expect(await queue.claim('dead', { count: 10 })).toHaveLength(1);
    await r.wb.delete('k');
    await clock.advanceAsync(100);
    expect((await r.wb.metrics()).inFlight).toBe(1);
    await clock.advanceAsync(2_000);
    await r.wb.flush();
    expect(r.source.data.has('k')).toBe(false);
    expect(r.source.log.filter(([op]) => op === 'save')).toEqual([]);
    expect((await queue.pending()).depth).toBe(0);
  });

  it('rejects with a typed BackpressureError and drops nothing when the queue is full', async () => {
    const r = rig({ maxQueueSize: 10, backpressure: 'reject' });
    r.source.down = true;
    for (let i = 0; i < 10; i++) await r.wb.set(`k${i}`, `v${i}`);
    const error = await r.wb.set('k10', 'v10').catch((e: unknown) => e);
    expect(isDcError(error, 'E_BACKPRESSURE')).toBe(true);
    expect(r.store.entries.has('k10')).toBe(false);
    expect((await r.wb.metrics()).rejected).toBe(1);
    expect(r.events.some((e) => e.type === 'write-behind:backpressure')).toBe(true);
    await r.clock.advanceAsync(500);
    r.source.down = false;
    await drain(r, 500);
    expect(r.source.data).toEqual(new Map(Array.from({ length: 10 }, (_, i) => [`k${i}`, `v${i}`])));
  });

  it('writes through to the source when the queue is full and backpressure is write-through, never overwritten by an older queued write', async () => {
    const r = rig({ maxQueueSize: 2, backpressure: 'write-through', flushIntervalMs: 10_000 });
    await r.wb.set('a', 'a1');
    await r.wb.set('k', 'old');
    await r.wb.set('k', 'new');
    expect(r.source.data.get('k')).toBe('new');
    expect(r.store.entries.get('k')?.value).toBe('new');
    expect(await r.wb.get('k')).toBe('new');
    await r.wb.flush();
    expect(r.source.data.get('k')).toBe('new');
    expect(r.source.data.get('a')).toBe('a1');
    expect(await r.wb.metrics()).toMatchObject({ depth: 0, fallbackWrites: 1, rejected: 0 });
  });

  it('drains the queue on close and rejects later writes with E_CLOSED', async () => {
    const r = rig({ flushIntervalMs: 60_000 });
    for (let i = 0; i < 250; i++) await r.wb.set(`k${i}`, `v${i}`);
    const report = await r.wb.close();
    expect(report).toEqual({ flushed: 250, remaining: 0, incomplete: false });
    expect(r.source.data.size).toBe(250);
    const error = await r.wb.set('late', 'x').catch((e: unknown) => e);
    expect(isDcError(error, 'E_CLOSED')).toBe(true);
    expect(isDcError(await r.wb.flush().catch((e: unknown) => e), 'E_CLOSED')).toBe(true);
    expect(await r.wb.metrics()).toMatchObject({ depth: 0, flushed: 250, sourceWrites: 250 });
    expect(await r.wb.close()).toBe(report);
  });

  it('stops at its deadline and reports what remains when the source stays down during close', async () => {
    const r = rig({ closeTimeoutMs: 1_000 });
    for (let i = 0; i < 5; i++) await r.wb.set(`k${i}`, `v${i}`);
    r.source.down = true;
    let report: unknown;
    const closing = r.wb.close().then((value) => {
      report = value;
    });
    for (let i = 0; i < 50 && report === undefined; i++) await r.clock.advanceAsync(100);
    await closing;
    expect(report).toEqual({ flushed: 0, remaining: 5, incomplete: true });
  });

  it('keeps the entries of a queue passed in when close times out', async () => {
    const clock = createManualClock(0);
    const queue = createMemoryWriteQueue<string>({ clock });
    const r = rig({ clock, queue });
    await r.wb.set('k', 'v');
    r.source.down = true;
    const report = await r.wb.close({ timeoutMs: 0 });
    expect(report).toMatchObject({ remaining: 1, incomplete: true });
    expect((await queue.pending()).depth).toBe(1);
  });

  it('retries with exponential backoff stretched by the injected random when the source fails', async () => {
    const r = rig({ retryBaseDelayMs: 100, retryMaxDelayMs: 800, retryJitterRatio: 0.5, random: () => 0.5 });
    r.source.down = true;
    await r.wb.set('k', 'v');
    await r.clock.advanceAsync(10_000);
    const delays = r.events.flatMap((e) => (e.type === 'write-behind:retry' ? [e.delayMs] : []));
    expect(delays.slice(0, 6)).toEqual([125, 250, 500, 1_000, 1_000, 1_000]);
    r.source.down = false;
    await drain(r);
    expect(r.source.data.get('k')).toBe('v');
  });

  it('writes batches of batchSize distinct keys with saveMany and deleteMany when the source has them', async () => {
    const r = rig({ batchSize: 100 });
    for (let i = 0; i < 250; i++) await r.wb.set(`k${i}`, `v${i}`);
    for (let i = 0; i < 3; i++) await r.wb.delete(`k${i}`);
    await drain(r);
    expect(r.source.log.filter(([op]) => op === 'saveMany').map(([, n]) => n)).toEqual([100, 100, 50]);
    expect(r.source.log.filter(([op]) => op === 'deleteMany').map(([, n]) => n)).toEqual([3]);
    expect(r.source.data.size).toBe(247);
  });

  it('writes one key at a time when the source has no batch methods', async () => {
    const r = rig({ batchSize: 10 }, false);
    for (let i = 0; i < 25; i++) await r.wb.set(`k${i}`, `v${i}`);
    await drain(r);
    expect(r.source.log.every(([op]) => op === 'save')).toBe(true);
    expect(r.source.data.size).toBe(25);
  });

  it('gives up after maxAttempts, reports write-behind:failed and invalidates the cached value', async () => {
    const r = rig({ maxAttempts: 3 });
    r.source.down = true;
    await r.wb.set('k', 'v');
    await r.clock.advanceAsync(5_000);
    const failed = r.events.filter((e) => e.type === 'write-behind:failed');
    expect(failed).toHaveLength(1);
    expect(r.store.entries.has('k')).toBe(false);
    expect(await r.wb.metrics()).toMatchObject({ depth: 0, failed: 1, retried: 2 });
  });

  it('exports depth and lag while writes wait for the flush', async () => {
    const r = rig({ flushIntervalMs: 1_000 });
    await r.wb.set('a', '1');
    await r.clock.advanceAsync(400);
    await r.wb.set('b', '2');
    expect(await r.wb.metrics()).toMatchObject({ depth: 2, lagMs: 400, flushed: 0 });
  });

  it('reads its own unflushed write when the cache write failed and the policy is ignore', async () => {
    const clock = createManualClock(0);
    const store = withFaults(createTestStore<string>({ clock: clock }), seededRandom(1));
    const source = createMapSource<string>();
    await source.save('k', 'db');
    const wb = createWriteBehind<string>({
      store,
      dataSource: source,
      ttlMs: 60_000,
      clock,
      onCacheError: 'ignore',
    });
    store.faults.writeFailRate = 1;
    await wb.set('k', 'mine');
    store.faults.writeFailRate = 0;
    expect(await wb.get('k')).toBe('mine');
    await clock.advanceAsync(1_000);
    expect(source.data.get('k')).toBe('mine');
    await wb.close();
  });

  it('rejects with E_STORE_UNAVAILABLE under throw yet still delivers the queued write', async () => {
    const clock = createManualClock(0);
    const store = withFaults(createTestStore<string>({ clock: clock }), seededRandom(1), { down: true });
    const source = createMapSource<string>();
    const wb = createWriteBehind<string>({ store, dataSource: source, ttlMs: 60_000, clock });
    const error = await wb.set('k', 'v').catch((e: unknown) => e);
    expect(isDcError(error, 'E_STORE_UNAVAILABLE')).toBe(true);
    await clock.advanceAsync(1_000);
    expect(source.data.get('k')).toBe('v');
    await wb.close();
  });

  it('keeps per-key call order when writes to one key are concurrent', async () => {
    const r = rig();
    await Promise.all(Array.from({ length: 50 }, (_, i) => r.wb.set('k', `v${i}`)));
    expect(r.store.entries.get('k')?.value).toBe('v49');
    await drain(r);
    expect(r.source.data.get('k')).toBe('v49');
  });

  it('recovers every acknowledged write from a shared queue when the first flusher dies with entries pending', async () => {
    const queueClock = createManualClock(0);
    const queue = createMemoryWriteQueue<string>({ clock: queueClock, maxSize: 2_000 });
    const source = createSqliteSource();
    const deadClock = createManualClock(0);
    const first = createWriteBehind<string>({
      store: createTestStore<string>({ clock: deadClock }),
      dataSource: source,
      ttlMs: 60_000,
      queue,
      consumer: 'app-1',
      clock: deadClock,
    });
    const model = new Map<string, string>();
    for (let i = 0; i < 1_000; i++) {
      await first.set(`k${i % 100}`, `v${i}`);
      model.set(`k${i % 100}`, `v${i}`);
    }
    source.down = true;
    await deadClock.advanceAsync(1_000);
    expect((await queue.pending()).inFlight).toBeGreaterThan(0);
    // app-1 is gone (its clock never moves again); app-2 starts and takes over after claimIdleMs.
    source.down = false;
    const second = createWriteBehind<string>({
      store: createTestStore<string>({ clock: queueClock }),
      dataSource: source,
      ttlMs: 60_000,
      queue,
      consumer: 'app-2',
      claimIdleMs: 5_000,
      clock: queueClock,
    });
    await queueClock.advanceAsync(5_000);
    const report = await second.flush();
    expect(report).toEqual({ flushed: 1_000, remaining: 0, incomplete: false });
    expect(source.rows()).toEqual(model);
    expect(await queue.pending()).toEqual({ depth: 0, inFlight: 0, oldestEnqueuedAt: undefined });
    source.close();
  });

  it('drains to a real SQLite source in batches when closed', async () => {
    const clock = createManualClock(0);
    const source = createSqliteSource();
    const wb = createWriteBehind<string>({
      store: createTestStore<string>({ clock: clock }),
      dataSource: source,
      ttlMs: 60_000,
      clock,
      batchSize: 200,
    });
    for (let i = 0; i < 1_000; i++) await wb.set(`k${i % 400}`, `v${i}`);
    expect(await wb.close()).toEqual({ flushed: 1_000, remaining: 0, incomplete: false });
    expect(source.rows().size).toBe(400);
    expect(source.peek('k199')).toBe('v999');
    expect(source.peek('k399')).toBe('v799');
    expect(source.calls.batches).toBe(5);
    source.close();
  });
});

describe('resolveWriteBehindOptions', () => {
  const clock = createManualClock(0);
  const base = () => ({
    store: createTestStore<string>({ clock: clock }),
    dataSource: createMapSource<string>(),
    ttlMs: 1_000,
  });
  const cases: Array<[string, Partial<WriteBehindOptions<string>>, RegExp]> = [
    ['batchSize < 1', { batchSize: 0 }, /`batchSize` must be an integer >= 1, got 0/],
    ['fractional batchSize', { batchSize: 1.5 }, /`batchSize`/],
    ['negative flushIntervalMs', { flushIntervalMs: -1 }, /`flushIntervalMs`/],
    ['negative retryBaseDelayMs', { retryBaseDelayMs: -5 }, /`retryBaseDelayMs`/],
    ['negative claimIdleMs', { claimIdleMs: -1 }, /`claimIdleMs`/],
    ['negative closeTimeoutMs', { closeTimeoutMs: -1 }, /`closeTimeoutMs`/],
    ['maxQueueSize < 1', { maxQueueSize: 0 }, /`maxQueueSize`/],
    [
      'unknown backpressure',
      { backpressure: 'drop' as never },
      /`backpressure` must be one of 'reject', 'write-through'/,
    ],
    ['maxAttempts 0', { maxAttempts: 0 }, /`maxAttempts`/],
    [
      'source without save',
      { dataSource: { load: async () => undefined, delete: async () => {} } as never },
      /save/,
    ],
    ['source without delete', { dataSource: { save: async () => {} } as never }, /delete/],
    [
      'queue without claim',
      { queue: { enqueue: async () => ({}) } as never },
      /`queue` must implement WriteQueue/,
    ],
  ];
  for (const [name, patch, message] of cases) {
    it(`throws E_INVALID_OPTION at construction for ${name}`, () => {
      let error: unknown;
      try {
        createWriteBehind({ ...base(), ...patch });
      } catch (e) {
        error = e;
      }
      expect(isDcError(error, 'E_INVALID_OPTION')).toBe(true);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).toMatch(/^\[dc:strategies\]/);
    });
  }

  it('accepts the defaults and freezes the result', () => {
    const resolved = resolveWriteBehindOptions(base());
    expect(resolved).toMatchObject({ batchSize: 100, flushIntervalMs: 1_000, backpressure: 'reject' });
    expect(Object.isFrozen(resolved)).toBe(true);
  });
});

// Property: no acknowledged write is ever lost. Random programs of sets and deletes over a few
// keys run against a small bounded queue while the source goes up and down and virtual time
// moves; after close() with the source healthy, the source must hold, for every key, exactly
// the last acknowledged operation (value or absence). Rejected writes must never appear.
const PROPERTY_SEED = 424_242;

type Step =
  | { readonly kind: 'set' | 'delete'; readonly key: string }
  | { readonly kind: 'outage'; readonly down: boolean }
  | { readonly kind: 'tick'; readonly ms: number };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('a', 'b', 'c', 'd').map((key) => ({ kind: 'set', key }) as const) },
  {
    weight: 2,
    arbitrary: fc.constantFrom('a', 'b', 'c', 'd').map((key) => ({ kind: 'delete', key }) as const),
  },
  { weight: 1, arbitrary: fc.boolean().map((down) => ({ kind: 'outage', down }) as const) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 400 }).map((ms) => ({ kind: 'tick', ms }) as const) },
);

describe('createWriteBehind property', () => {
  it('never drops an acknowledged write under outages and backpressure', async () => {
    let lost = 0;
    let acked = 0;
    let rejected = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(stepArb, { minLength: 1, maxLength: 60 }),
        fc.constantFrom('reject', 'write-through' as const),
        fc.integer({ min: 1, max: 5 }),
        async (steps, backpressure, batchSize) => {
          const clock = createManualClock(0);
          const source = createMapSource<string>({ batch: batchSize % 2 === 0 });
          const wb = createWriteBehind<string>({
            store: createTestStore<string>({ clock: clock }),
            dataSource: source,
            ttlMs: 60_000,
            clock,
            random: seededRandom(batchSize),
            maxQueueSize: 6,
            batchSize,
            flushIntervalMs: 50,
            retryBaseDelayMs: 50,
            retryMaxDelayMs: 400,
            backpressure: backpressure as 'reject' | 'write-through',
          });
          const model = new Map<string, string | undefined>();
          const rejectedValues = new Set<string>();
          let counter = 0;
          for (const step of steps) {
            if (step.kind === 'tick') await clock.advanceAsync(step.ms);
            else if (step.kind === 'outage') source.down = step.down;
            else {
              const value = `${step.key}#${++counter}`;
              try {
                if (step.kind === 'set') await wb.set(step.key, value);
                else await wb.delete(step.key);
                model.set(step.key, step.kind === 'set' ? value : undefined);
                acked += 1;
              } catch (error) {
                if (isDcError(error, 'E_BACKPRESSURE') || (backpressure === 'write-through' && source.down)) {
                  rejected += 1;
                  if (step.kind === 'set') rejectedValues.add(value);
                } else throw error;
              }
            }
          }
          source.down = false;
          let report: { remaining: number } | undefined;
          const closing = wb.close({ timeoutMs: 120_000 }).then((r) => {
            report = r;
          });
          for (let i = 0; i < 2_000 && report === undefined; i++) await clock.advanceAsync(50);
          await closing;
          let bad = report?.remaining === 0 ? 0 : 1;
          for (const [key, value] of model) if (source.data.get(key) !== value) bad += 1;
          for (const value of source.data.values()) if (rejectedValues.has(value)) bad += 1;
          lost += bad;
          return bad === 0;
        },
      ),
      { seed: PROPERTY_SEED, numRuns: 200 },
    );
    expect(lost).toBe(0);
    expect(acked).toBeGreaterThan(500);
    expect(rejected).toBeGreaterThan(0);
  });
});
