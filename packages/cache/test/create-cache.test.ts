import { createManualClock, isDcError, jsonSerializer } from '@dc/core';
import { describe, expect, it, vi } from 'vitest';
import type { CacheEventMap } from '../src';
import { createCache, createEmbeddedStore } from '../src';

const START = 1_700_000_000_000;

describe('createCache', () => {
  it('works with zero configuration on the embedded default (L1 + in-process L2)', async () => {
    const cache = createCache<{ name: string }>();
    const loader = vi.fn(async () => ({ name: 'Ada' }));
    expect(await cache.getOrSet('user:1', loader)).toEqual({ name: 'Ada' });
    expect(await cache.getOrSet('user:1', loader)).toEqual({ name: 'Ada' });
    expect(loader).toHaveBeenCalledTimes(1);
    expect(cache.l1).toBeDefined();
    expect(cache.l2.name).toBe('embedded');
    expect((await cache.l2.get('user:1'))?.value).toEqual({ name: 'Ada' });
    await cache.close();
  });

  it('counts an L1 hit, an L2 hit and a miss per read when the value moves between tiers', async () => {
    const clock = createManualClock(START);
    const cache = createCache<number>({ clock, ttl: '1m' });
    const hits: CacheEventMap['cache:hit'][] = [];
    cache.on('cache:hit', (event) => hits.push(event));
    await cache.getOrSet('k', async () => 1); // miss + load
    await cache.getOrSet('k', async () => 2); // L1 hit
    clock.advance(2_500); // past the L1's 2 s cap, well within the 1 min TTL
    await cache.getOrSet('k', async () => 3); // L2 hit, refills L1
    await cache.get('k'); // L1 hit
    const stats = cache.stats();
    expect(stats).toMatchObject({ misses: 1, loads: 1, l1Hits: 2, l2Hits: 1, hits: 3 });
    expect(hits.map((h) => h.tier)).toEqual(['l1', 'l2', 'l1']);
    await cache.close();
  });

  it('answers an L1 hit with a settled promise shared by every hit of the entry', async () => {
    const cache = createCache<number>();
    await cache.set('k', 7);
    const a = cache.getOrSet('k', async () => 0);
    const b = cache.getOrSet('k', async () => 0);
    const c = cache.get('k');
    expect(a).toBe(b);
    expect(c).toBe(a);
    expect(await a).toBe(7);
    await cache.close();
  });

  it('answers getSync from L1 only, with undefined for anything not fresh in L1', async () => {
    const clock = createManualClock(START);
    const cache = createCache<number>({ clock, ttl: '10s' });
    await cache.set('k', 1);
    expect(cache.getSync('k')).toBe(1);
    expect(cache.getSync('other')).toBeUndefined();
    clock.advance(2_500); // past the L1 cap: still in L2, not in L1
    expect(cache.getSync('k')).toBeUndefined();
    expect(await cache.get('k')).toBe(1);
    expect(cache.getSync('k')).toBe(1);
    expect(() => cache.getSync('')).toThrow(/non-empty/);
    await cache.close();
  });

  it('writes L2 before L1 on set and removes from both on delete', async () => {
    const l2 = createEmbeddedStore<string>();
    const cache = createCache<string>({ l2 });
    await cache.set('k', 'v', { ttl: '10s' });
    expect((await l2.get('k'))?.value).toBe('v');
    expect(cache.l1?.getSync('k')?.value).toBe('v');
    expect(await cache.has('k')).toBe(true);
    expect(await cache.delete('k')).toBe(true);
    expect(await l2.get('k')).toBeUndefined();
    expect(cache.l1?.getSync('k')).toBeUndefined();
    expect(await cache.delete('k')).toBe(false);
    await cache.set('a', '1');
    await cache.set('b', '2');
    expect(await cache.deleteMany(['a', 'b', 'c'])).toBe(2);
    expect(await cache.get('a')).toBeUndefined();
    await cache.close();
    expect(await l2.get('a')).toBeUndefined(); // a store passed in stays open
    await l2.close();
  });

  it('prefixes L2 keys with the namespace and keeps namespaces apart', async () => {
    const l2 = createEmbeddedStore<string>();
    const a = createCache<string>({ l2, namespace: 'a', l1: false });
    const b = createCache<string>({ l2, namespace: 'b', l1: false });
    await a.set('k', 'from a');
    await b.set('k', 'from b');
    expect(await a.get('k')).toBe('from a');
    expect(await b.get('k')).toBe('from b');
    expect((await l2.get('a:k'))?.value).toBe('from a');
    await Promise.all([a.close(), b.close(), l2.close()]);
  });

  it('treats __proto__, constructor and toString as ordinary keys and pollutes nothing', async () => {
    const cache = createCache<string>();
    for (const key of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      expect(await cache.getOrSet(key, async () => `v:${key}`)).toBe(`v:${key}`);
      expect(await cache.get(key)).toBe(`v:${key}`);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(typeof ({} as { toString: unknown }).toString).toBe('function');
    await cache.close();
  });

  it('serves values from L2 alone when l1 is false', async () => {
    const cache = createCache<number>({ l1: false });
    await cache.getOrSet('k', async () => 1);
    expect(await cache.getOrSet('k', async () => 2)).toBe(1);
    expect(cache.stats()).toMatchObject({ l1Hits: 0, l2Hits: 1, misses: 1 });
    await cache.close();
  });

  it('loads through the dataSource when getOrSet has no loader', async () => {
    const dataSource = {
      load: vi.fn(async (key: string) => `db:${key}`),
      save: async () => {},
      delete: async () => {},
    };
    const cache = createCache<string>({ dataSource });
    expect(await cache.getOrSet('k')).toBe('db:k');
    expect(dataSource.load).toHaveBeenCalledTimes(1);
    await cache.close();
  });

  it('rejects every call with E_CLOSED after close() and closes only what it created', async () => {
    const cache = createCache<number>();
    await cache.close();
    await cache.close();
    for (const call of [
      () => cache.get('k'),
      () => cache.getOrSet('k', async () => 1),
      () => cache.set('k', 1),
      () => cache.delete('k'),
      () => cache.clear(),
    ]) {
      expect(isDcError(await call().catch((e) => e), 'E_CLOSED')).toBe(true);
    }
  });

  it('empties L2 and L1 on clear()', async () => {
    const cache = createCache<number>();
    await cache.set('a', 1);
    await cache.set('b', 2);
    await cache.clear();
    expect(await cache.get('a')).toBeUndefined();
    expect(await cache.l2.get('b')).toBeUndefined();
    await cache.close();
  });
});

describe('createCache bad input', () => {
  it('rejects an empty key with E_INVALID_KEY before calling the loader or any tier', async () => {
    const l2 = createEmbeddedStore<number>();
    const get = vi.spyOn(l2, 'get');
    const cache = createCache<number>({ l2 });
    const loader = vi.fn(async () => 1);
    for (const call of [
      () => cache.getOrSet('', loader),
      () => cache.get(''),
      () => cache.set('', 1),
      () => cache.delete(''),
    ]) {
      expect(isDcError(await call().catch((e) => e), 'E_INVALID_KEY')).toBe(true);
    }
    expect(loader).not.toHaveBeenCalled();
    expect(get).not.toHaveBeenCalled();
    await cache.close();
  });

  it('rejects a NaN TTL and an unknown unit with E_INVALID_OPTION naming the option, and stores nothing', async () => {
    const cache = createCache<number>();
    await cache.set('k', 1);
    const nan = await cache.set('k', 2, { ttl: Number.NaN }).catch((e) => e);
    expect(isDcError(nan, 'E_INVALID_OPTION')).toBe(true);
    expect(nan.message).toMatch(/`ttl`/);
    const parsecs = await cache.getOrSet('other', async () => 3, { ttl: '5 parsecs' }).catch((e) => e);
    expect(isDcError(parsecs, 'E_INVALID_OPTION')).toBe(true);
    expect(parsecs.message).toMatch(/5 parsecs/);
    expect(await cache.get('k')).toBe(1);
    expect(await cache.get('other')).toBeUndefined();
    await cache.close();
  });

  it('rejects bad per-call options even when the key is an L1 hit', async () => {
    const cache = createCache<number>();
    await cache.set('k', 1);
    const error = await cache.getOrSet('k', async () => 2, { grace: '-1s' }).catch((e) => e);
    expect(isDcError(error, 'E_INVALID_OPTION')).toBe(true);
    await cache.close();
  });

  it('rejects an unencodable value with E_SERIALIZATION before any I/O and keeps the stored one', async () => {
    const l2 = createEmbeddedStore<unknown>({ serializer: jsonSerializer });
    const cache = createCache<unknown>({ l2 });
    await cache.set('k', { ok: true });
    const error = await cache.set('k', { big: 10n }).catch((e) => e);
    expect(isDcError(error, 'E_SERIALIZATION')).toBe(true);
    expect(await cache.get('k')).toEqual({ ok: true });
    expect((await l2.get('k'))?.value).toEqual({ ok: true });
    await Promise.all([cache.close(), l2.close()]);
  });

  it('checks values with the serializer option on set before any tier is touched', async () => {
    const l2 = createEmbeddedStore<unknown>();
    const set = vi.spyOn(l2, 'set');
    const cache = createCache<unknown>({ l2, serializer: jsonSerializer });
    const error = await cache.set('k', new Map()).catch((e) => e);
    expect(isDcError(error, 'E_SERIALIZATION')).toBe(true);
    expect(set).not.toHaveBeenCalled();
    await Promise.all([cache.close(), l2.close()]);
  });

  it('throws E_INVALID_OPTION at construction for unknown or bad options', () => {
    expect(() => createCache({ ttl: 0 })).toThrow(/`ttl`/);
    expect(() => createCache({ jitter: 1 })).toThrow(/`jitter`/);
    expect(() => createCache({ namespace: 'a:b' })).toThrow(/namespace/);
    expect(() => createCache({ failMode: 'maybe' as never })).toThrow(/failMode/);
    expect(() => createCache({ tll: '5s' } as never)).toThrow(/unknown createCache option `tll`/);
    expect(() => createCache({ writeMode: 'write-through' })).toThrow(/dataSource/);
    expect(() => createCache({ l2: {} as never })).toThrow(/CacheStore/);
  });

  it('leaves no timer behind when a later option is bad', () => {
    const clock = createManualClock(START);
    expect(() =>
      createCache({
        clock,
        hotKeys: true,
        writeMode: 'write-behind',
        dataSource: { load: async () => 1, save: async () => {}, delete: async () => {} },
        writeBehind: { batchSize: 0 },
      }),
    ).toThrow(/batchSize/);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('re-validates a mutable per-call options object on every call', async () => {
    const cache = createCache<number>();
    await cache.set('k', 1);
    const options: { ttl: string } = { ttl: '1m' };
    expect(await cache.getOrSet('k', async () => 2, options)).toBe(1);
    options.ttl = 'soon';
    expect(
      isDcError(await cache.getOrSet('k', async () => 2, options).catch((e) => e), 'E_INVALID_OPTION'),
    ).toBe(true);
    await cache.close();
  });

  it('rejects set(key, undefined) and a missing loader with E_INVALID_OPTION', async () => {
    const cache = createCache<number | undefined>();
    expect(isDcError(await cache.set('k', undefined).catch((e) => e), 'E_INVALID_OPTION')).toBe(true);
    expect(isDcError(await cache.getOrSet('k').catch((e) => e), 'E_INVALID_OPTION')).toBe(true);
    await cache.close();
  });
});

describe('createCache negative caching (X6)', () => {
  it('caches nothing for an undefined result by default', async () => {
    const cache = createCache<string | undefined>();
    const loader = vi.fn(async () => undefined);
    expect(await cache.getOrSet('missing', loader)).toBeUndefined();
    expect(await cache.getOrSet('missing', loader)).toBeUndefined();
    expect(loader).toHaveBeenCalledTimes(2);
    expect(await cache.l2.get('missing')).toBeUndefined();
    await cache.close();
  });

  it('answers getSync with undefined for a cached "not found" in L1', async () => {
    const clock = createManualClock(START);
    const cache = createCache<string | undefined>({ clock, negativeTtl: '1m', ttl: '1h' });
    expect(await cache.getOrSet('missing', async () => undefined)).toBeUndefined();
    expect(cache.l1?.getSync('missing')).toBeDefined(); // the marker is in L1
    expect(cache.getSync('missing')).toBeUndefined();
    expect(cache.stats().l1Hits).toBe(1);
    await cache.close();
  });

  it('caches "not found" for at most negativeTtl when it is set', async () => {
    const clock = createManualClock(START);
    const cache = createCache<string | undefined>({ clock, negativeTtl: '1s', ttl: '1h' });
    const loader = vi.fn(async () => undefined);
    expect(await cache.getOrSet('missing', loader)).toBeUndefined();
    expect(await cache.getOrSet('missing', loader)).toBeUndefined();
    expect(loader).toHaveBeenCalledTimes(1);
    const stored = await cache.l2.get('missing');
    expect(stored !== undefined && stored.expiresAt - START).toBeLessThanOrEqual(1_000);
    clock.advance(1_000);
    expect(await cache.getOrSet('missing', loader)).toBeUndefined();
    expect(loader).toHaveBeenCalledTimes(2);
    await cache.close();
  });

  it('never caches a loader error, even with negativeTtl', async () => {
    const cache = createCache<string | undefined>({ negativeTtl: '1m' });
    const loader = vi.fn(async () => {
      throw new Error('db down');
    });
    await expect(cache.getOrSet('k', loader)).rejects.toThrow('db down');
    await expect(cache.getOrSet('k', loader)).rejects.toThrow('db down');
    expect(loader).toHaveBeenCalledTimes(2);
    expect(await cache.l2.get('k')).toBeUndefined();
    await cache.close();
  });
});

describe('createCache events', () => {
  it('emits miss, load and hit events and ignores a throwing listener', async () => {
    const cache = createCache<number>();
    const seen: string[] = [];
    cache.on('cache:miss', () => seen.push('miss'));
    cache.on('cache:load', () => seen.push('load'));
    const off = cache.on('cache:hit', () => seen.push('hit'));
    cache.on('cache:hit', () => {
      throw new Error('listener bug');
    });
    await cache.getOrSet('k', async () => 1);
    await cache.getOrSet('k', async () => 1);
    off();
    await cache.getOrSet('k', async () => 1);
    expect(seen).toEqual(['miss', 'load', 'hit']);
    await cache.close();
  });
});

describe('createCache hotKeys', () => {
  it('fills L1 only for keys the detector calls hot', async () => {
    const clock = createManualClock(START);
    const cache = createCache<number>({ clock, hotKeys: { threshold: 5, windowMs: 1_000 } });
    clock.advance(5_000); // past the detector's warm-up
    await cache.getOrSet('cold', async () => 1);
    expect(cache.l1?.getSync('cold')).toBeUndefined();
    for (let i = 0; i < 50; i++) await cache.getOrSet('hot', async () => 2);
    expect(cache.l1?.getSync('hot')?.value).toBe(2);
    expect(cache.l1?.getSync('cold')).toBeUndefined();
    await cache.close();
  });
});

describe('createCache L1 hit freshness with a reused clock reading', () => {
  // Timers fire 10 ms after they are due, as on a busy event loop.
  const lateClock = () => {
    const manual = createManualClock(START);
    const clock = {
      now: () => manual.now(),
      setTimer: (callback: () => void, delayMs: number) => manual.setTimer(callback, delayMs + 10),
    };
    return { manual, clock };
  };

  it('treats an L1 entry as stale at its staleAt even when the reused reading is older', async () => {
    const { manual, clock } = lateClock();
    const cache = createCache<number>({
      clock,
      ttl: 12,
      grace: '1m',
      l1: { defaultTtlMs: 120_000, clockResolutionMs: 5 },
    });
    await cache.set('k', 1);
    expect(cache.getSync('k')).toBe(1); // takes the reading at START; its refresh is due at +15
    manual.advance(11);
    expect(cache.getSync('k')).toBe(1);
    manual.advance(1); // at staleAt: still in L1 (grace), no longer fresh
    expect(cache.l1?.getSync('k')?.value).toBe(1);
    expect(cache.getSync('k')).toBeUndefined();
    await cache.close();
  });

  it('leaves no timer behind after close', async () => {
    const clock = createManualClock(START);
    const cache = createCache<number>({
      clock,
      ttl: '1h',
      l1: { defaultTtlMs: 7_200_000, clockResolutionMs: 1 },
    });
    await cache.set('k', 1);
    expect(await cache.get('k')).toBe(1);
    await cache.close();
    expect(clock.pendingTimers()).toBe(0);
  });
});
