import { createEntry, createManualClock, isDcError, type LoadContext } from '@dc/core';
import { createTestStore } from '@dc/testkit';
import { describe, expect, it } from 'vitest';
import { createMemoryLock, createStaleWhileRevalidate, type StaleWhileRevalidateOptions } from '../src/index';
import { countUnhandledRejections, delay, withSync } from './helpers';

function setup(options: Partial<StaleWhileRevalidateOptions<string>> = {}) {
  const clock = createManualClock(1_000_000);
  const store = createTestStore<string>({ clock });
  const errors: Array<[unknown, string]> = [];
  const swr = createStaleWhileRevalidate<string>({
    store,
    clock,
    ttlMs: 1_000,
    graceMs: 10_000,
    earlyRecompute: false,
    onError: (error, context) => errors.push([error, context.phase]),
    ...options,
  });
  let calls = 0;
  let version = 0;
  const loader = async () => {
    calls++;
    await delay(clock, 300);
    return `v${++version}`;
  };
  return { clock, store, swr, errors, loader, calls: () => calls };
}

/** Seeds `store` with a stale entry (stale since 10 ms, inside grace). */
async function seedStale(s: ReturnType<typeof setup>, value = 'old') {
  const now = s.clock.now();
  await s.store.set(
    'k',
    createEntry(value, { now: now - 1_010, ttlMs: 1_000, graceMs: 10_000, deltaMs: 300 }),
  );
}

describe('createStaleWhileRevalidate', () => {
  it('serves a fresh entry without calling the loader', async () => {
    const s = setup();
    await s.store.set('k', createEntry('cached', { now: s.clock.now(), ttlMs: 1_000 }));
    await expect(s.swr.getOrLoad('k', s.loader)).resolves.toBe('cached');
    expect(s.calls()).toBe(0);
  });

  it('loads a cold key once for 1,000 concurrent callers and stores the measured deltaMs', async () => {
    const s = setup();
    const all = Promise.all(Array.from({ length: 1_000 }, () => s.swr.getOrLoad('k', s.loader)));
    await s.clock.advanceAsync(300);
    expect(new Set(await all)).toEqual(new Set(['v1']));
    expect(s.calls()).toBe(1);
    expect(s.swr.inFlightCount()).toBe(0);
    const entry = s.store.entries.get('k');
    expect(entry?.deltaMs).toBe(300);
    expect(entry?.staleAt).toBe(s.clock.now() + 1_000);
    expect(entry?.expiresAt).toBe(s.clock.now() + 11_000);
  });

  it('answers 1,000 callers with the stale value by the 50 ms soft timeout and finishes the 300 ms load in the background', async () => {
    const s = setup({ softTimeoutMs: 50 });
    await seedStale(s);
    const start = s.clock.now();
    const answeredAt: number[] = [];
    const values = Promise.all(
      Array.from({ length: 1_000 }, () =>
        s.swr.getOrLoad('k', s.loader).then((value) => {
          answeredAt.push(s.clock.now() - start);
          return value;
        }),
      ),
    );
    await s.clock.advanceAsync(60);
    expect(answeredAt).toHaveLength(1_000);
    expect(Math.max(...answeredAt)).toBeLessThanOrEqual(60);
    expect(new Set(await values)).toEqual(new Set(['old']));
    expect(s.calls()).toBe(1);
    await s.clock.advanceAsync(240);
    expect(s.calls()).toBe(1);
    expect(s.store.entries.get('k')?.value).toBe('v1');
    expect(s.swr.inFlightCount()).toBe(0);
    expect(s.swr.stats().staleServed).toBe(1_000);
  });

  it('returns the refreshed value when the refresh beats the soft timeout', async () => {
    const s = setup({ softTimeoutMs: 500 });
    await seedStale(s);
    const value = s.swr.getOrLoad('k', s.loader);
    await s.clock.advanceAsync(300);
    await expect(value).resolves.toBe('v1');
  });

  it('serves stale at once and refreshes once in the background when no soft timeout is set', async () => {
    const s = setup();
    await seedStale(s);
    const values = await Promise.all(Array.from({ length: 100 }, () => s.swr.getOrLoad('k', s.loader)));
    expect(new Set(values)).toEqual(new Set(['old']));
    expect(s.swr.inFlightCount()).toBe(1);
    await s.clock.advanceAsync(300);
    expect(s.calls()).toBe(1);
    await expect(s.swr.getOrLoad('k', s.loader)).resolves.toBe('v1');
  });

  it('keeps serving stale after a failed refresh, backs off graceBackoffMs, reports once, and leaves no unhandled rejection', async () => {
    const s = setup({ softTimeoutMs: 50, graceBackoffMs: 5_000 });
    await seedStale(s);
    let calls = 0;
    const boom = new Error('db down');
    const failing = async () => {
      calls++;
      await delay(s.clock, 100);
      throw boom;
    };
    const unhandled = await countUnhandledRejections(async () => {
      const first = Promise.all(Array.from({ length: 1_000 }, () => s.swr.getOrLoad('k', failing)));
      await s.clock.advanceAsync(100);
      expect(new Set(await first)).toEqual(new Set(['old']));
      await s.clock.advanceAsync(1_000);
      await expect(s.swr.getOrLoad('k', failing)).resolves.toBe('old');
      expect(calls).toBe(1);
      await s.clock.advanceAsync(4_000);
      const retry = s.swr.getOrLoad('k', s.loader);
      await s.clock.advanceAsync(300);
      await expect(retry).resolves.toBe('old');
      expect(s.calls()).toBe(1);
      expect(s.store.entries.get('k')?.value).toBe('v1');
    });
    expect(unhandled).toBe(0);
    expect(s.errors).toEqual([[boom, 'load']]);
  });

  it('reports a failed background refresh nobody awaits to onError, without an unhandled rejection', async () => {
    const s = setup();
    await seedStale(s);
    const boom = new Error('refresh failed');
    const unhandled = await countUnhandledRejections(async () => {
      await expect(
        s.swr.getOrLoad('k', async () => {
          await delay(s.clock, 10);
          throw boom;
        }),
      ).resolves.toBe('old');
      await s.clock.advanceAsync(10);
    });
    expect(unhandled).toBe(0);
    expect(s.errors).toEqual([[boom, 'load']]);
    expect(s.swr.inFlightCount()).toBe(0);
  });

  it('rejects every waiter with the loader error on a miss and retries on the next call', async () => {
    const s = setup();
    const boom = new Error('nope');
    let calls = 0;
    const unhandled = await countUnhandledRejections(async () => {
      const settled = Promise.allSettled(
        Array.from({ length: 1_000 }, () =>
          s.swr.getOrLoad('k', async () => {
            calls++;
            await delay(s.clock, 300);
            throw boom;
          }),
        ),
      );
      await s.clock.advanceAsync(300);
      const results = await settled;
      expect(results.every((r) => r.status === 'rejected' && r.reason === boom)).toBe(true);
    });
    expect(unhandled).toBe(0);
    expect(calls).toBe(1);
    const next = s.swr.getOrLoad('k', s.loader);
    await s.clock.advanceAsync(300);
    await expect(next).resolves.toBe('v1');
  });

  it('rejects a miss with E_LOADER_TIMEOUT at hardTimeoutMs and aborts the loader signal', async () => {
    const s = setup({ hardTimeoutMs: 100 });
    let signal: AbortSignal | undefined;
    const slow = async (_key: string, context: LoadContext) => {
      signal = context.signal;
      await delay(s.clock, 1_000);
      return 'late';
    };
    const unhandled = await countUnhandledRejections(async () => {
      const settled = Promise.allSettled([s.swr.getOrLoad('k', slow), s.swr.getOrLoad('k', slow)]);
      await s.clock.advanceAsync(100);
      const results = await settled;
      for (const r of results) {
        expect(r.status).toBe('rejected');
        expect(isDcError((r as PromiseRejectedResult).reason, 'E_LOADER_TIMEOUT')).toBe(true);
      }
      expect(signal?.aborted).toBe(true);
      await s.clock.advanceAsync(1_000);
    });
    expect(unhandled).toBe(0);
    expect(s.store.entries.has('k')).toBe(false);
    expect(s.errors.map(([, phase]) => phase)).toEqual(['load']);
  });

  it('refreshes early with XFetch at most once at a time while callers keep the current value', async () => {
    const s = setup({ earlyRecompute: true, random: () => 1 - 1e-12 });
    await s.store.set('k', createEntry('cur', { now: s.clock.now(), ttlMs: 1_000, deltaMs: 300 }));
    const values = await Promise.all(Array.from({ length: 100 }, () => s.swr.getOrLoad('k', s.loader)));
    expect(new Set(values)).toEqual(new Set(['cur']));
    expect(s.swr.inFlightCount()).toBe(1);
    expect(s.swr.stats().earlyRefreshes).toBe(1);
    await s.clock.advanceAsync(300);
    expect(s.calls()).toBe(1);
    expect(s.store.entries.get('k')?.value).toBe('v1');
  });

  it('refreshes at most once per TTL period and never makes a caller wait once warm (XFetch near expiry)', async () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    const s = setup({ earlyRecompute: true, ttlMs: 10_000, graceMs: 0, random });
    const loadStarts: number[] = [];
    const loader = async () => {
      loadStarts.push(s.clock.now());
      await delay(s.clock, 100);
      return 'v';
    };
    const first = s.swr.getOrLoad('k', loader);
    await s.clock.advanceAsync(100);
    await first;
    let waited = 0;
    // 40 s of reads every 20 ms against a 10 s TTL and a 100 ms recompute.
    for (let step = 0; step < 2_000; step++) {
      let answered = false;
      const read = s.swr.getOrLoad('k', loader).then(() => {
        answered = true;
      });
      await s.clock.advanceAsync(0);
      if (!answered) waited++;
      await s.clock.advanceAsync(20);
      await read;
    }
    expect(waited).toBe(0);
    expect(loadStarts.length - 1).toBe(4);
    for (let i = 1; i < loadStarts.length; i++) {
      const gap = (loadStarts[i] as number) - (loadStarts[i - 1] as number);
      expect(gap).toBeGreaterThan(9_000);
      expect(gap).toBeLessThanOrEqual(10_100);
    }
  });

  it('reads a SyncCacheStore without awaiting the store', async () => {
    const clock = createManualClock(0);
    const store = withSync(createTestStore<string>({ clock }), clock);
    store.setSync('k', createEntry('sync', { now: 0, ttlMs: 1_000 }));
    const swr = createStaleWhileRevalidate<string>({ store, clock, ttlMs: 1_000 });
    await expect(swr.getOrLoad('k', async () => 'loaded')).resolves.toBe('sync');
  });

  it('treats a failing store read as a miss and reports it', async () => {
    const s = setup();
    const broken = { ...s.store, get: async () => Promise.reject(new Error('store down')) };
    const errors: string[] = [];
    const swr = createStaleWhileRevalidate<string>({
      store: broken,
      clock: s.clock,
      ttlMs: 1_000,
      onError: (_e, c) => errors.push(c.phase),
    });
    await expect(swr.getOrLoad('k', async () => 'db')).resolves.toBe('db');
    expect(errors).toEqual(['store-get']);
  });

  it('does not let a throwing onError escape', async () => {
    const s = setup({
      onError: () => {
        throw new Error('hook');
      },
    });
    await seedStale(s);
    const unhandled = await countUnhandledRejections(async () => {
      await s.swr.getOrLoad('k', async () => Promise.reject(new Error('x')));
      await s.swr.settle();
    });
    expect(unhandled).toBe(0);
    expect(s.swr.stats().errors).toBe(1);
  });

  it.each([
    ['ttlMs 0', { ttlMs: 0 }],
    ['ttlMs NaN', { ttlMs: Number.NaN }],
    ['graceMs < 0', { graceMs: -1 }],
    ['jitterRatio 1', { jitterRatio: 1 }],
    ['beta 0', { beta: 0 }],
    ['beta NaN', { beta: Number.NaN }],
    ['softTimeoutMs NaN', { softTimeoutMs: Number.NaN }],
    ['hardTimeoutMs 0', { hardTimeoutMs: 0 }],
    ['graceBackoffMs < 0', { graceBackoffMs: -5 }],
    ['store missing', { store: undefined as never }],
  ])('throws E_INVALID_OPTION at creation for %s', (_label, override) => {
    const clock = createManualClock();
    let error: unknown;
    try {
      createStaleWhileRevalidate<string>({
        store: createTestStore<string>({ clock }),
        clock,
        ttlMs: 1_000,
        ...override,
      });
    } catch (e) {
      error = e;
    }
    expect(isDcError(error, 'E_INVALID_OPTION')).toBe(true);
  });

  it('rejects a bad key with E_INVALID_KEY before touching the store', async () => {
    const s = setup();
    const error = await s.swr.getOrLoad('', s.loader).catch((e: unknown) => e);
    expect(isDcError(error, 'E_INVALID_KEY')).toBe(true);
    expect(s.calls()).toBe(0);
  });
});

describe('createStaleWhileRevalidate with a DistributedLock', () => {
  function processes(count: number) {
    const clock = createManualClock(1_000_000);
    const store = createTestStore<string>({ clock });
    const lock = createMemoryLock({ clock });
    const errors: string[] = [];
    const make = () =>
      createStaleWhileRevalidate<string>({
        store,
        clock,
        lock,
        ttlMs: 1_000,
        graceMs: 10_000,
        earlyRecompute: false,
        lockWaitMs: 5_000,
        onError: (_e, c) => errors.push(c.phase),
      });
    return { clock, store, lock, errors, procs: Array.from({ length: count }, make) };
  }

  it('loads a cold key once across 3 processes with 1,000 callers each', async () => {
    const { clock, procs } = processes(3);
    let calls = 0;
    const loader = async () => {
      calls++;
      await delay(clock, 300);
      return 'shared';
    };
    const all = Promise.all(
      procs.flatMap((p) => Array.from({ length: 1_000 }, () => p.getOrLoad('k', loader))),
    );
    await clock.advanceAsync(300);
    expect(new Set(await all)).toEqual(new Set(['shared']));
    expect(calls).toBe(1);
    expect(procs.map((p) => p.inFlightCount())).toEqual([0, 0, 0]);
  });

  it('skips a background refresh while another process holds the lock, and serves stale', async () => {
    const { clock, store, lock, procs } = processes(1);
    const [proc] = procs as [ReturnType<typeof createStaleWhileRevalidate<string>>];
    await store.set('k', createEntry('old', { now: clock.now() - 1_010, ttlMs: 1_000, graceMs: 10_000 }));
    const other = await lock.acquire('lock:k', { ttlMs: 60_000 });
    expect(other).not.toBeNull();
    let calls = 0;
    await expect(proc.getOrLoad('k', async () => `v${++calls}`)).resolves.toBe('old');
    await proc.settle();
    expect(calls).toBe(0);
  });

  it('fails open and reports when the lock backend throws', async () => {
    const clock = createManualClock(0);
    const store = createTestStore<string>({ clock });
    const phases: string[] = [];
    const brokenLock = {
      acquire: async () => Promise.reject(new Error('lock down')),
      release: async () => false,
      extend: async () => false,
      close: async () => {},
    };
    const swr = createStaleWhileRevalidate<string>({
      store,
      clock,
      ttlMs: 1_000,
      lock: brokenLock,
      onError: (_e, c) => phases.push(c.phase),
    });
    await expect(swr.getOrLoad('k', async () => 'loaded')).resolves.toBe('loaded');
    expect(phases).toEqual(['lock']);
    expect(store.entries.get('k')?.value).toBe('loaded');
  });

  it('rejects a non-lock and bad lock durations with E_INVALID_OPTION', () => {
    const clock = createManualClock();
    for (const bad of [
      { lock: 5 as never },
      { lockTtlMs: 0 },
      { lockWaitMs: -1 },
      { lockKeyPrefix: 3 as never },
    ]) {
      let error: unknown;
      try {
        createStaleWhileRevalidate<string>({
          store: createTestStore<string>({ clock }),
          clock,
          ttlMs: 1,
          ...bad,
        });
      } catch (e) {
        error = e;
      }
      expect(isDcError(error, 'E_INVALID_OPTION')).toBe(true);
    }
  });
});
