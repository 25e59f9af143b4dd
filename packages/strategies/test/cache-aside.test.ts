import type { DataSource } from '@dc/core';
import { createManualClock, isDcError } from '@dc/core';
import { createTestStore, seededRandom } from '@dc/testkit';
import { describe, expect, it } from 'vitest';
import type { StrategyEvent } from '../src/index';
import { createCacheAside, resolveCacheAsideOptions } from '../src/index';
import { withFaults } from './faulty-store';

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}
function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A map-backed source counting its calls; `gate` lets a test hold loads open. */
function mapSource(initial: Record<string, string> = {}, withBatch = true) {
  const data = new Map(Object.entries(initial));
  const calls = { load: 0, loadMany: 0, loadManyKeys: [] as string[][] };
  let gate: Promise<void> | undefined;
  let failWith: unknown;
  const source: DataSource<string> = {
    async load(key) {
      calls.load += 1;
      if (gate) await gate;
      if (failWith !== undefined) throw failWith;
      return data.get(key);
    },
    async save(key, value) {
      data.set(key, value);
    },
    async delete(key) {
      data.delete(key);
    },
  };
  if (withBatch) {
    source.loadMany = async (keys) => {
      calls.loadMany += 1;
      calls.loadManyKeys.push([...keys]);
      if (gate) await gate;
      const out = new Map<string, string>();
      for (const key of keys) {
        const value = data.get(key);
        if (value !== undefined) out.set(key, value);
      }
      return out;
    };
  }
  return {
    source,
    data,
    calls,
    hold(promise: Promise<void> | undefined) {
      gate = promise;
    },
    fail(error: unknown) {
      failWith = error;
    },
  };
}

describe('createCacheAside', () => {
  it('loads a miss from the data source and populates the cache with ttlMs', async () => {
    const clock = createManualClock(10_000);
    const store = createTestStore<string>({ clock: clock });
    const { source, calls } = mapSource({ a: 'A' });
    const aside = createCacheAside({ store, dataSource: source, ttlMs: 5_000, graceMs: 1_000, clock });
    expect(await aside.get('a')).toBe('A');
    expect(store.entries.get('a')).toMatchObject({ value: 'A', staleAt: 15_000, expiresAt: 16_000 });
    expect(await aside.get('a')).toBe('A');
    expect(calls.load).toBe(1);
  });

  it('reloads once the entry has expired when time passes its expiresAt', async () => {
    const clock = createManualClock(0);
    const store = createTestStore<string>({ clock: clock });
    const { source, calls, data } = mapSource({ a: 'A1' });
    const aside = createCacheAside({ store, dataSource: source, ttlMs: 1_000, clock });
    await aside.get('a');
    data.set('a', 'A2');
    clock.advance(999);
    expect(await aside.get('a')).toBe('A1');
    clock.advance(1);
    expect(await aside.get('a')).toBe('A2');
    expect(calls.load).toBe(2);
  });

  it('caches nothing when the loader resolves undefined and negative caching is off', async () => {
    const clock = createManualClock(0);
    const store = createTestStore<string>({ clock: clock });
    const { source, calls } = mapSource();
    const aside = createCacheAside({ store, dataSource: source, ttlMs: 1_000, clock });
    expect(await aside.get('none')).toBeUndefined();
    expect(await aside.get('none')).toBeUndefined();
    expect(store.entries.size).toBe(0);
    expect(calls.load).toBe(2);
  });

  it('caches nothing and rethrows when the loader throws', async () => {
    const clock = createManualClock(0);
    const store = createTestStore<string>({ clock: clock });
    const src = mapSource({ a: 'A' });
    src.fail(new Error('db down'));
    const aside = createCacheAside({
      store,
      dataSource: src.source,
      ttlMs: 1_000,
      negativeTtlMs: 500,
      clock,
    });
    await expect(aside.get('a')).rejects.toThrow('db down');
    expect(store.entries.size).toBe(0);
    expect(aside.inFlight()).toBe(0);
    src.fail(undefined);
    expect(await aside.get('a')).toBe('A');
  });

  it('caches a not-found for negativeTtlMs only when negative caching is on', async () => {
    const clock = createManualClock(0);
    const store = createTestStore<string>({ clock: clock });
    const { source, calls, data } = mapSource();
    const aside = createCacheAside({ store, dataSource: source, ttlMs: 60_000, negativeTtlMs: 200, clock });
    expect(await aside.get('x')).toBeUndefined();
    data.set('x', 'X');
    expect(await aside.get('x')).toBeUndefined();
    expect(calls.load).toBe(1);
    expect(store.entries.get('x')?.expiresAt).toBe(200);
    clock.advance(200);
    expect(await aside.get('x')).toBe('X');
  });

  it('coalesces concurrent misses on one key into one load', async () => {
    const clock = createManualClock(0);
    const store = createTestStore<string>({ clock: clock });
    const src = mapSource({ hot: 'H' });
    const gate = deferred<void>();
    src.hold(gate.promise);
    const aside = createCacheAside({ store, dataSource: src.source, ttlMs: 1_000, clock });
    const readers = Array.from({ length: 50 }, () => aside.get('hot'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(aside.inFlight()).toBe(1);
    gate.resolve();
    expect(await Promise.all(readers)).toEqual(Array(50).fill('H'));
    expect(src.calls.load).toBe(1);
    expect(aside.inFlight()).toBe(0);
  });

  it('empties its in-flight map when coalesced loads reject', async () => {
    const clock = createManualClock(0);
    const src = mapSource();
    src.fail(new Error('boom'));
    const aside = createCacheAside({
      store: createTestStore<string>({ clock: clock }),
      dataSource: src.source,
      ttlMs: 1_000,
      clock,
    });
    const results = await Promise.allSettled(
      Array.from({ length: 1_000 }, (_, i) => aside.get(`k${i % 10}`)),
    );
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect(aside.inFlight()).toBe(0);
  });

  it('does not populate a value loaded before an invalidate when the key is invalidated mid-load', async () => {
    const clock = createManualClock(0);
    const store = createTestStore<string>({ clock: clock });
    const src = mapSource({ a: 'old' });
    const gate = deferred<void>();
    src.hold(gate.promise);
    const aside = createCacheAside({ store, dataSource: src.source, ttlMs: 1_000, clock });
    const pending = aside.get('a');
    await new Promise((resolve) => setImmediate(resolve));
    src.data.set('a', 'new');
    await aside.invalidate('a');
    gate.resolve();
    await pending;
    expect(store.entries.has('a')).toBe(false);
    src.hold(undefined);
    expect(await aside.get('a')).toBe('new');
  });

  it('serves from the data source and reports cache:error when the cache fails and the policy is ignore', async () => {
    const clock = createManualClock(0);
    const store = withFaults(createTestStore<string>({ clock: clock }), seededRandom(1), { down: true });
    const events: StrategyEvent[] = [];
    const aside = createCacheAside({
      store,
      dataSource: mapSource({ a: 'A' }).source,
      ttlMs: 1_000,
      clock,
      onEvent: (e) => events.push(e),
    });
    expect(await aside.get('a')).toBe('A');
    expect(events.map((e) => e.type)).toEqual(['cache:error', 'cache:error']);
  });

  it('rejects with E_STORE_UNAVAILABLE when the cache fails and the policy is throw', async () => {
    const clock = createManualClock(0);
    const store = withFaults(createTestStore<string>({ clock: clock }), seededRandom(1), { down: true });
    const aside = createCacheAside({
      store,
      dataSource: mapSource({ a: 'A' }).source,
      ttlMs: 1_000,
      clock,
      onCacheError: 'throw',
    });
    const error = await aside.get('a').catch((e: unknown) => e);
    expect(isDcError(error, 'E_STORE_UNAVAILABLE')).toBe(true);
  });

  it('rejects an invalid key with E_INVALID_KEY before touching the cache or the source', async () => {
    const clock = createManualClock(0);
    const src = mapSource();
    const aside = createCacheAside({
      store: createTestStore<string>({ clock: clock }),
      dataSource: src.source,
      ttlMs: 1,
      clock,
    });
    const error = await aside.get('').catch((e: unknown) => e);
    expect(isDcError(error, 'E_INVALID_KEY')).toBe(true);
    expect(src.calls.load).toBe(0);
  });

  it('serves a stale entry within grace and refreshes it once in the background', async () => {
    const clock = createManualClock(0);
    const store = createTestStore<string>({ clock: clock });
    const src = mapSource({ a: 'v1' });
    const aside = createCacheAside({ store, dataSource: src.source, ttlMs: 1_000, graceMs: 1_000, clock });
    await aside.get('a');
    src.data.set('a', 'v2');
    clock.advance(1_500);
    const gate = deferred<void>();
    src.hold(gate.promise);
    expect(await Promise.all([aside.get('a'), aside.get('a'), aside.get('a')])).toEqual(['v1', 'v1', 'v1']);
    gate.resolve();
    await aside.close();
    expect(src.calls.load).toBe(2);
    expect(await aside.get('a')).toBe('v2');
  });
});

describe('createCacheAside getMany', () => {
  it('calls loadMany once for all missing keys and caches what it found', async () => {
    const clock = createManualClock(0);
    const store = createTestStore<string>({ clock: clock });
    const src = mapSource({ a: 'A', b: 'B', c: 'C' });
    const aside = createCacheAside({ store, dataSource: src.source, ttlMs: 1_000, clock });
    await aside.get('a');
    expect(await aside.getMany(['a', 'b', 'c', 'missing', 'b'])).toEqual(['A', 'B', 'C', undefined, 'B']);
    expect(src.calls.loadMany).toBe(1);
    expect(src.calls.loadManyKeys).toEqual([['b', 'c', 'missing']]);
    expect([...store.entries.keys()].sort()).toEqual(['a', 'b', 'c']);
    expect(await aside.getMany(['a', 'b', 'c'])).toEqual(['A', 'B', 'C']);
    expect(src.calls.loadMany).toBe(1);
  });

  it('falls back to one coalesced load per key when the source has no loadMany', async () => {
    const clock = createManualClock(0);
    const src = mapSource({ a: 'A', b: 'B' }, false);
    const aside = createCacheAside({
      store: createTestStore<string>({ clock: clock }),
      dataSource: src.source,
      ttlMs: 1_000,
      clock,
    });
    expect(await aside.getMany(['a', 'b', 'a'])).toEqual(['A', 'B', 'A']);
    expect(src.calls.load).toBe(2);
  });

  it('joins a load already in flight instead of loading the key again', async () => {
    const clock = createManualClock(0);
    const src = mapSource({ a: 'A', b: 'B' });
    const gate = deferred<void>();
    src.hold(gate.promise);
    const aside = createCacheAside({
      store: createTestStore<string>({ clock: clock }),
      dataSource: src.source,
      ttlMs: 1_000,
      clock,
    });
    const single = aside.get('a');
    await new Promise((resolve) => setImmediate(resolve));
    const many = aside.getMany(['a', 'b']);
    await new Promise((resolve) => setImmediate(resolve));
    gate.resolve();
    expect(await single).toBe('A');
    expect(await many).toEqual(['A', 'B']);
    expect(src.calls.load).toBe(2);
    expect(src.calls.loadMany).toBe(0);
  });

  it('caches not-found keys from a batch only when negative caching is on', async () => {
    const clock = createManualClock(0);
    const store = createTestStore<string>({ clock: clock });
    const src = mapSource({ a: 'A' });
    const aside = createCacheAside({
      store,
      dataSource: src.source,
      ttlMs: 1_000,
      negativeTtlMs: 100,
      clock,
    });
    expect(await aside.getMany(['a', 'x'])).toEqual(['A', undefined]);
    expect(store.entries.get('x')?.expiresAt).toBe(100);
    expect(await aside.getMany(['a', 'x'])).toEqual(['A', undefined]);
    expect(src.calls.loadMany).toBe(1);
  });
});

describe('resolveCacheAsideOptions', () => {
  const clock = createManualClock(0);
  const base = () => ({
    store: createTestStore<string>({ clock: clock }),
    dataSource: mapSource().source,
    ttlMs: 1_000,
  });
  const codeOf = (fn: () => unknown): unknown => {
    try {
      fn();
    } catch (error) {
      return isDcError(error) ? error.code : error;
    }
    return 'no error';
  };

  it('throws E_INVALID_OPTION when the data source has no load', () => {
    const dataSource = { save: async () => {}, delete: async () => {} } as never;
    expect(() => createCacheAside({ ...base(), dataSource })).toThrow(/missing required method\(s\): load/);
  });

  it('throws E_INVALID_OPTION for a non-positive ttlMs or negative negativeTtlMs and graceMs', () => {
    expect(codeOf(() => resolveCacheAsideOptions({ ...base(), ttlMs: 0 }))).toBe('E_INVALID_OPTION');
    expect(codeOf(() => resolveCacheAsideOptions({ ...base(), negativeTtlMs: -1 }))).toBe('E_INVALID_OPTION');
    expect(codeOf(() => resolveCacheAsideOptions({ ...base(), graceMs: -5 }))).toMatch('E_INVALID_OPTION');
    expect(() => resolveCacheAsideOptions({ ...base(), graceMs: -5 })).toThrow(/`graceMs`/);
  });

  it('throws E_INVALID_OPTION for a store that is not a CacheStore or an unknown policy', () => {
    expect(codeOf(() => resolveCacheAsideOptions({ ...base(), store: {} as never }))).toBe(
      'E_INVALID_OPTION',
    );
    expect(codeOf(() => resolveCacheAsideOptions({ ...base(), onCacheError: 'maybe' as never }))).toBe(
      'E_INVALID_OPTION',
    );
  });
});
