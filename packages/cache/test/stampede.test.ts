import { createManualClock, isDcError } from '@dc/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EmbeddedStore } from '../src';
import { createCache } from '../src';
import { after, seeded, trackUnhandled } from './helpers';

const START = 1_700_000_000_000;
let unhandled: ReturnType<typeof trackUnhandled>;
beforeEach(() => {
  unhandled = trackUnhandled();
});
afterEach(() => {
  unhandled.stop();
});

describe('createCache getOrSet stampede (E1)', () => {
  for (const callers of [10, 100, 1_000, 10_000]) {
    it(`calls a 300 ms loader once when ${callers} callers miss one cold key`, async () => {
      const clock = createManualClock(START);
      const cache = createCache<string>({ clock });
      let calls = 0;
      const loader = () => {
        calls++;
        return after(clock, 300, 'value');
      };
      const all = Promise.all(Array.from({ length: callers }, () => cache.getOrSet('cold', loader)));
      await clock.advanceAsync(300);
      const values = await all;
      expect(calls).toBe(1);
      expect(values.every((v) => v === 'value')).toBe(true);
      expect(cache.stats()).toMatchObject({ loads: 1, misses: callers, coalesced: callers - 1, inFlight: 0 });
      await cache.close();
    });
  }
});

describe('createCache getOrSet loader failure (E2)', () => {
  it('gives all 1,000 waiters the same error, leaves no unhandled rejection and retries on the next call', async () => {
    const clock = createManualClock(START);
    const cache = createCache<string>({ clock });
    const failure = new Error('source down');
    let calls = 0;
    const failing = () => {
      calls++;
      return after(clock, 300, undefined).then(() => {
        throw failure;
      });
    };
    const settled = Promise.allSettled(Array.from({ length: 1_000 }, () => cache.getOrSet('k', failing)));
    await clock.advanceAsync(300);
    const results = await settled;
    expect(calls).toBe(1);
    expect(results.every((r) => r.status === 'rejected' && r.reason === failure)).toBe(true);
    expect(await cache.getOrSet('k', async () => 'recovered')).toBe('recovered');
    await new Promise((resolve) => setImmediate(resolve));
    expect(unhandled.seen).toEqual([]);
    expect(cache.stats()).toMatchObject({ loadErrors: 1, loads: 2, inFlight: 0 });
    await cache.close();
  });

  it('serves the graced value when a background refresh throws, with no unhandled rejection', async () => {
    const clock = createManualClock(START);
    const cache = createCache<string>({ clock, ttl: '1s', grace: '1m', earlyRecompute: false });
    await cache.getOrSet('k', async () => 'v1');
    clock.advance(1_500);
    const errors: unknown[] = [];
    cache.on('cache:error', ({ error }) => errors.push(error));
    const value = await cache.getOrSet('k', async () => {
      throw new Error('refresh failed');
    });
    await cache.settle();
    await new Promise((resolve) => setImmediate(resolve));
    expect(value).toBe('v1');
    expect(errors).toHaveLength(1);
    expect(unhandled.seen).toEqual([]);
    await cache.close();
  });

  it('does not retry a failed refresh within refreshBackoff, then retries', async () => {
    const clock = createManualClock(START);
    const cache = createCache<string>({
      clock,
      ttl: '1s',
      grace: '1h',
      refreshBackoff: '5s',
      earlyRecompute: false,
    });
    await cache.set('k', 'v1');
    clock.advance(1_000);
    let calls = 0;
    const failing = async () => {
      calls++;
      throw new Error('still down');
    };
    expect(await cache.getOrSet('k', failing)).toBe('v1');
    await cache.settle();
    expect(await cache.getOrSet('k', failing)).toBe('v1');
    await cache.settle();
    expect(calls).toBe(1);
    clock.advance(5_000);
    expect(await cache.getOrSet('k', async () => 'v2')).toBe('v1'); // stale answer, refresh started
    await cache.settle();
    expect(await cache.get('k')).toBe('v2');
    await cache.close();
  });

  it('returns to 0 loads in flight after 10,000 distinct misses whose loaders reject (X7)', async () => {
    const cache = createCache<string>();
    const results = await Promise.allSettled(
      Array.from({ length: 10_000 }, (_, i) =>
        cache.getOrSet(`k${i}`, async () => {
          throw new Error(`no ${i}`);
        }),
      ),
    );
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect(cache.stats()).toMatchObject({ inFlight: 0, loadErrors: 10_000 });
    expect(await cache.l2.get('k1')).toBeUndefined();
    await new Promise((resolve) => setImmediate(resolve));
    expect(unhandled.seen).toEqual([]);
    await cache.close();
  });

  it('rejects with E_LOADER_TIMEOUT after hardTimeout when no stale value exists', async () => {
    const clock = createManualClock(START);
    const cache = createCache<string>({ clock, hardTimeout: '100ms' });
    const pending = cache.getOrSet('k', () => after(clock, 1_000, 'late')).catch((e) => e);
    await clock.advanceAsync(100);
    expect(isDcError(await pending, 'E_LOADER_TIMEOUT')).toBe(true);
    await clock.advanceAsync(1_000);
    expect(await cache.get('k')).toBeUndefined();
    await cache.close();
  });
});

describe('createCache getOrSet soft timeout (E3)', () => {
  it('answers 1,000 callers with the stale value at the soft timeout and refreshes once in the background', async () => {
    const clock = createManualClock(START);
    const cache = createCache<string>({
      clock,
      ttl: '1s',
      grace: '1h',
      softTimeout: '50ms',
      earlyRecompute: false,
    });
    await cache.set('k', 'stale');
    clock.advance(1_000); // stale, within grace
    let calls = 0;
    const slow = () => {
      calls++;
      return after(clock, 300, 'fresh');
    };
    let answeredAt: number | undefined;
    const all = Promise.all(Array.from({ length: 1_000 }, () => cache.getOrSet('k', slow))).then((values) => {
      answeredAt = clock.now();
      return values;
    });
    await clock.advanceAsync(50);
    const values = await all;
    expect(answeredAt).toBeDefined();
    expect((answeredAt as number) - START - 1_000).toBeLessThanOrEqual(60);
    expect(values.every((v) => v === 'stale')).toBe(true);
    await clock.advanceAsync(250);
    await cache.settle();
    expect(calls).toBe(1);
    expect(await cache.get('k')).toBe('fresh');
    await cache.close();
  });

  it('answers with the refreshed value when it arrives within the soft timeout', async () => {
    const clock = createManualClock(START);
    const cache = createCache<string>({
      clock,
      ttl: '1s',
      grace: '1h',
      softTimeout: '50ms',
      earlyRecompute: false,
    });
    await cache.set('k', 'stale');
    clock.advance(1_000);
    const pending = cache.getOrSet('k', () => after(clock, 10, 'fresh'));
    await clock.advanceAsync(10);
    expect(await pending).toBe('fresh');
    await cache.close();
  });
});

describe('createCache getOrSet early refresh (E5)', () => {
  it('refreshes at most once per key per TTL period and no caller ever sees a miss', async () => {
    const clock = createManualClock(START);
    const ttlMs = 10_000;
    const cache = createCache<number>({ clock, ttl: ttlMs, random: seeded(20261127), beta: 1 });
    let calls = 0;
    const loader = () => {
      calls++;
      return after(clock, 500, calls);
    };
    const first = cache.getOrSet('hot', loader);
    await clock.advanceAsync(500);
    expect(await first).toBe(1);
    const loadTimes: number[] = [];
    const refreshedGenerations: number[] = [];
    cache.on('cache:load', () => {
      loadTimes.push(clock.now());
      // The entry this refresh replaces (the load event fires before the new one is stored).
      refreshedGenerations.push((cache.l2 as EmbeddedStore<number>).getSync('hot')?.staleAt ?? -1);
    });
    let missesSeen = 0;
    const periods = 20;
    // A reader every 50 ms for 20 TTL periods (4,000 reads), with the loader running in between.
    for (let i = 0; i < (periods * ttlMs) / 50; i++) {
      const value = await cache.getOrSet('hot', loader);
      if (value === undefined) missesSeen++;
      await clock.advanceAsync(50);
    }
    await cache.settle();
    expect(missesSeen).toBe(0);
    expect(cache.stats().misses).toBe(1);
    expect(cache.stats().earlyRefreshes).toBeGreaterThan(0);
    // At most one refresh per TTL period of each entry: every refresh replaced a different
    // generation, and each came well into the previous one's TTL (XFetch fires near the end).
    expect(loadTimes.length).toBeGreaterThanOrEqual(periods - 1);
    expect(new Set(refreshedGenerations).size).toBe(refreshedGenerations.length);
    expect(refreshedGenerations).not.toContain(-1);
    for (let i = 1; i < loadTimes.length; i++) {
      expect((loadTimes[i] as number) - (loadTimes[i - 1] as number)).toBeGreaterThan(ttlMs / 2);
    }
    await cache.close();
  });
});
