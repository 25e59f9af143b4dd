import { createManualClock } from '@dc/core';
import { seededRandom } from '@dc/testkit';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MemoryStore, MemoryStoreOptions } from '../src/index';
import { createMemoryStore } from '../src/index';
import { FrequencySketch, hashKey, spreadHash } from '../src/internal/frequency-sketch';
import { LFU_INIT_VAL, lfuDecrAndReturn, lfuLogIncr, lfuTimeElapsed } from '../src/internal/redis-lfu';

function make<V>(options: Partial<MemoryStoreOptions<V>>): MemoryStore<V> {
  return createMemoryStore<V>({ maxEntries: 3, activeExpiry: false, ...options });
}

function fillAndRead(store: MemoryStore<number>, reads: string[]): void {
  store.set('a', 1);
  store.set('b', 2);
  store.set('c', 3);
  for (const key of reads) store.get(key);
}

describe("policy 'lru'", () => {
  it('matches a reference LRU on random operation sequences (seed 42)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 15 })), { maxLength: 200 }),
        (capacity, ops) => {
          const store = make<number>({ maxEntries: capacity });
          // Reference: Map insertion order is the recency order (oldest first).
          const model = new Map<string, number>();
          for (const [isGet, n] of ops) {
            const key = `k${n}`;
            if (isGet) {
              const expected = model.get(key);
              if (expected !== undefined) {
                model.delete(key);
                model.set(key, expected);
              }
              expect(store.get(key)).toBe(expected);
            } else {
              model.delete(key);
              model.set(key, n);
              if (model.size > capacity) model.delete(model.keys().next().value as string);
              store.set(key, n);
            }
          }
          expect(new Set(store.keys())).toEqual(new Set(model.keys()));
        },
      ),
      { seed: 42, numRuns: 300 },
    );
  });
});

describe("policy 'lfu'", () => {
  it('evicts the least frequently used key, least recent among ties', () => {
    const store = make<number>({ policy: 'lfu' });
    fillAndRead(store, ['a', 'a', 'b', 'c']);
    // b and c both have 2 accesses; b is the less recent.
    store.set('d', 4);
    expect([...store.keys()].sort()).toEqual(['a', 'c', 'd']);
    store.get('d');
    store.get('d');
    store.set('e', 5);
    expect(store.has('c')).toBe(false);
  });

  it('never evicts the entry being written for a newcomer', () => {
    const store = make<number>({ policy: 'lfu', maxEntries: 2 });
    store.set('a', 1);
    store.set('b', 2);
    store.get('a');
    store.get('b');
    store.set('c', 3);
    expect(store.has('c')).toBe(true);
    expect(store.size).toBe(2);
  });
});

describe("policy 'sieve'", () => {
  it('keeps visited entries and evicts the first unvisited one from the tail', () => {
    const store = make<number>({ policy: 'sieve' });
    fillAndRead(store, ['a']);
    store.set('d', 4);
    // The hand clears a's bit and evicts b, the oldest unvisited entry.
    expect([...store.keys()].sort()).toEqual(['a', 'c', 'd']);
    store.set('e', 5);
    // The hand moved on from b's position: c (unvisited) goes next, a survives a second time.
    expect(store.has('c')).toBe(false);
    expect(store.has('a')).toBe(true);
  });

  it('evicts a visited entry once every bit was cleared', () => {
    const store = make<number>({ policy: 'sieve' });
    fillAndRead(store, ['a', 'b', 'c']);
    store.set('d', 4);
    expect(store.has('a')).toBe(false);
    expect(store.size).toBe(3);
  });
});

describe('Redis approximate LFU', () => {
  it('increments the counter with probability 1/((c - 5) * factor + 1) as LFULogIncr', () => {
    expect(lfuLogIncr(LFU_INIT_VAL, 10, 0.999)).toBe(LFU_INIT_VAL + 1);
    expect(lfuLogIncr(15, 10, 1 / 101 - 1e-9)).toBe(16);
    expect(lfuLogIncr(15, 10, 1 / 101 + 1e-9)).toBe(15);
    expect(lfuLogIncr(255, 0, 0)).toBe(255);
  });

  it('decrements one per decay period and never below zero as LFUDecrAndReturn', () => {
    expect(lfuDecrAndReturn(10, 100, 103, 60_000)).toBe(7);
    expect(lfuDecrAndReturn(10, 100, 103, 120_000)).toBe(9);
    expect(lfuDecrAndReturn(2, 100, 110, 60_000)).toBe(0);
    expect(lfuDecrAndReturn(10, 100, 500, 0)).toBe(10);
    expect(lfuTimeElapsed(65_530, 4)).toBe(9);
  });

  it('evicts the key with the lowest decayed counter among the samples', () => {
    const clock = createManualClock(0);
    const store = make<number>({
      policy: 'lfu',
      lfuApproximate: true,
      clock,
      lfuLogFactor: 0,
      random: () => 0,
    });
    fillAndRead(store, ['a', 'a', 'c']);
    store.set('d', 4);
    expect(store.has('b')).toBe(false);
    expect(store.size).toBe(3);
  });
});

describe("policy 'tinylfu'", () => {
  it('refuses one-hit keys leaving the window in favour of frequently read entries', () => {
    const store = make<number>({ policy: 'tinylfu', maxEntries: 10, random: () => 0.5 });
    const evicted: Array<[string, string]> = [];
    store.on('evict', (key, _value, reason) => evicted.push([key, reason]));
    for (let i = 0; i < 10; i++) store.set(`hot${i}`, i);
    for (let round = 0; round < 5; round++) for (let i = 0; i < 10; i++) store.get(`hot${i}`);
    for (let i = 0; i < 20; i++) expect(store.set(`cold${i}`, i)).toBe(true);
    expect(store.size).toBe(10);
    // The 1-entry window holds the newest cold key; the hot keys in main all survive.
    expect(store.has('cold19')).toBe(true);
    expect([...store.keys()].filter((k) => k.startsWith('hot'))).toHaveLength(9);
    const refused = evicted.filter(([key, reason]) => key.startsWith('cold') && reason === 'admission');
    expect(refused).toHaveLength(19);
  });

  it('resizes the window only at the end of each sample of max(1280, 3 x maxEntries) requests', () => {
    const store = make<number>({
      policy: 'tinylfu',
      maxEntries: 100,
      random: () => 0.5,
    }) as MemoryStore<number> & {
      readonly windowMaximum: number;
    };
    const random = seededRandom(7);
    // A request is a hit or an inserted key; a get miss is followed by the insert.
    let requests = 0;
    const changedAt: number[] = [];
    let window = store.windowMaximum;
    for (let i = 0; i < 40_000; i++) {
      // Skewed keys over 400 names: hits and misses both stay frequent.
      const key = `k${Math.floor(400 * random() ** 3)}`;
      if (store.get(key) !== undefined) requests++;
      else {
        store.set(key, i);
        requests++;
      }
      if (store.windowMaximum !== window) {
        window = store.windowMaximum;
        changedAt.push(requests);
      }
    }
    expect(changedAt.length).toBeGreaterThan(3);
    for (const at of changedAt) expect(at % 1_280).toBe(0);
  });
});

describe('FrequencySketch', () => {
  const item = (key: string) => spreadHash(hashKey(key));

  it('estimates counts up to 15 and halves them after the sample size', () => {
    const sketch = new FrequencySketch(16);
    const h = item('x');
    for (let i = 0; i < 20; i++) sketch.increment(h);
    expect(sketch.frequency(h)).toBe(15);
    expect(sketch.frequency(item('never'))).toBe(0);
    for (let i = 0; i < sketch.sampleSize; i++) sketch.increment(item(`noise${i}`));
    expect(sketch.frequency(h)).toBeLessThanOrEqual(7);
  });

  it('answers as if every queued increment had been applied at once, halvings included', () => {
    // `eager` is queried after every increment, so it applies each one before the next;
    // `queued` is only queried at checkpoints, after hundreds of increments have queued up.
    const eager = new FrequencySketch(128);
    const queued = new FrequencySketch(128);
    const random = seededRandom(11);
    const items = Array.from({ length: 300 }, (_, i) => item(`k${i}`));
    for (let step = 1; step <= 6 * eager.sampleSize; step++) {
      const it = items[Math.floor(items.length * random() ** 2)] as number;
      eager.increment(it);
      eager.frequency(it);
      queued.increment(it);
      if (step % 997 === 0) {
        for (const probe of items) expect(queued.frequency(probe)).toBe(eager.frequency(probe));
      }
    }
    for (const probe of items) expect(queued.frequency(probe)).toBe(eager.frequency(probe));
  });

  it('sizes small caches like a 128-entry one and larger ones by their capacity', () => {
    expect(new FrequencySketch(16).sampleSize).toBe(1280);
    expect(new FrequencySketch(1000).sampleSize).toBe(10_000);
  });

  it('halves every count exactly when it resets', () => {
    const sketch = new FrequencySketch(128);
    const tracked = Array.from({ length: 40 }, (_, i) => item(`tracked${i}`));
    tracked.forEach((h, i) => {
      for (let n = 0; n < i % 16; n++) sketch.increment(h);
    });
    let resets = 0;
    for (let i = 0; resets < 3 && i < 100 * sketch.sampleSize; i++) {
      const before = tracked.map((h) => sketch.frequency(h));
      sketch.increment(item(`noise${i}`));
      const after = tracked.map((h) => sketch.frequency(h));
      if (!after.some((count, j) => count < before[j]!)) continue;
      resets++;
      // The increment that triggers the reset may first add one to a tracked counter.
      after.forEach((count, j) => {
        expect([before[j]! >>> 1, (before[j]! + 1) >>> 1]).toContain(count);
      });
      tracked.forEach((h, j) => {
        for (let n = 0; n < j % 16; n++) sketch.increment(h);
      });
    }
    expect(resets).toBe(3);
  });
});
