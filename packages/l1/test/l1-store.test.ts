import type { CacheEntry, CacheStore, SyncCacheStore } from '@dc/core';
import { createEntry, createManualClock, isDcError, isSyncCacheStore } from '@dc/core';
import { afterEach, describe, expect, it } from 'vitest';
import type { L1BackendName, L1Store, L1StoreOptions } from '../src/index';
import { createL1Store, ENTRY_OVERHEAD_BYTES, L1_BACKENDS } from '../src/index';

const START = 1_700_000_000_000;

const caught = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
};

describe.each(L1_BACKENDS)('createL1Store (backend %s)', (backend: L1BackendName) => {
  const stores: L1Store<unknown>[] = [];
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
  });

  const setup = (options: L1StoreOptions<unknown> = {}) => {
    const clock = createManualClock(START);
    const l1 = createL1Store<unknown>({ backend, clock, ...options });
    stores.push(l1);
    const entry = (value: unknown, ttlMs = 60_000, graceMs = 0): CacheEntry<unknown> =>
      createEntry(value, { now: clock.now(), ttlMs, graceMs });
    return { clock, l1, entry };
  };

  it('is a CacheStore and a SyncCacheStore', () => {
    const { l1 } = setup();
    const asPorts: CacheStore<unknown> & SyncCacheStore<unknown> = l1;
    expect(isSyncCacheStore(asPorts)).toBe(true);
    expect(l1.name).toBe('l1');
    expect(l1.backend).toBe(backend);
  });

  it('returns the stored entry on a hit and undefined on a miss', () => {
    const { l1, entry } = setup();
    const e = entry({ name: 'Ada' });
    l1.setSync('user:1', e);
    expect(l1.getSync('user:1')).toEqual(e);
    expect(l1.getSync('user:2')).toBeUndefined();
    expect(l1.stats()).toMatchObject({ hits: 1, misses: 1, sets: 1, size: 1 });
  });

  it('never returns an entry at or after its expiresAt', () => {
    const { l1, entry, clock } = setup({ defaultTtlMs: 10_000 });
    l1.setSync('k', entry('v', 500));
    clock.advance(499);
    expect(l1.getSync('k')?.value).toBe('v');
    clock.advance(1);
    expect(l1.getSync('k')).toBeUndefined();
  });

  it('keeps an entry at most defaultTtlMs when its own expiry is later', () => {
    const { l1, entry, clock } = setup({ defaultTtlMs: 1_000 });
    const e = entry('v', 60_000);
    l1.setSync('k', e);
    clock.advance(999);
    expect(l1.getSync('k')).toBe(e);
    clock.advance(1);
    expect(l1.getSync('k')).toBeUndefined();
  });

  it('serves a stale entry between staleAt and expiresAt unchanged', () => {
    const { l1, entry, clock } = setup();
    const e = entry('v', 100, 400);
    l1.setSync('k', e);
    clock.advance(200);
    expect(l1.getSync('k')).toEqual(e);
    expect(l1.getSync('k')?.staleAt).toBe(START + 100);
  });

  it('removes the key when the written entry has already expired', () => {
    const { l1, entry, clock } = setup();
    l1.setSync('k', entry('old'));
    l1.setSync('k', { value: 'new', expiresAt: clock.now(), staleAt: clock.now() });
    expect(l1.getSync('k')).toBeUndefined();
    expect(l1.size).toBe(0);
  });

  it('treats __proto__, constructor and other Object.prototype names like any key', () => {
    const { l1, entry } = setup();
    const names = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'];
    for (const name of names) expect(l1.getSync(name)).toBeUndefined();
    for (const [i, name] of names.entries()) l1.setSync(name, entry(i));
    for (const [i, name] of names.entries()) expect(l1.getSync(name)?.value).toBe(i);
    expect(l1.size).toBe(names.length);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(l1.deleteSync('__proto__')).toBe(true);
    expect(l1.getSync('__proto__')).toBeUndefined();
  });

  it('rejects empty, non-string and over-long keys with E_INVALID_KEY synchronously', () => {
    const { l1, entry } = setup({ maxKeyLength: 16 });
    for (const key of ['', 'x'.repeat(17), 42, undefined]) {
      expect(
        isDcError(
          caught(() => l1.getSync(key as string)),
          'E_INVALID_KEY',
        ),
      ).toBe(true);
      expect(
        isDcError(
          caught(() => l1.setSync(key as string, entry('v'))),
          'E_INVALID_KEY',
        ),
      ).toBe(true);
      expect(
        isDcError(
          caught(() => l1.deleteSync(key as string)),
          'E_INVALID_KEY',
        ),
      ).toBe(true);
    }
    expect(l1.getSync('x'.repeat(16))).toBeUndefined();
    expect(l1.stats().sets).toBe(0);
  });

  it('rejects (never throws) from the async methods on bad input', async () => {
    const { l1 } = setup();
    let pending: Promise<unknown> | undefined;
    expect(() => {
      pending = l1.get('');
    }).not.toThrow();
    await expect(pending).rejects.toMatchObject({ code: 'E_INVALID_KEY' });
    await expect(l1.set('k', { value: 1, expiresAt: Number.NaN, staleAt: 0 })).rejects.toMatchObject({
      code: 'E_INVALID_OPTION',
    });
    await expect(l1.getMany(['ok', ''])).rejects.toMatchObject({ code: 'E_INVALID_KEY' });
    await expect(l1.deleteMany(['ok', ''])).rejects.toMatchObject({ code: 'E_INVALID_KEY' });
  });

  it('writes nothing of a setMany that holds one bad entry', async () => {
    const { l1, entry } = setup();
    await expect(
      l1.setMany([
        ['a', entry(1)],
        ['b', { value: 2, expiresAt: 10, staleAt: 20 }],
      ]),
    ).rejects.toMatchObject({ code: 'E_INVALID_OPTION' });
    expect(l1.getSync('a')).toBeUndefined();
  });

  it('implements the batch methods in key order', async () => {
    const { l1, entry } = setup();
    await l1.setMany([
      ['a', entry(1)],
      ['b', entry(2)],
    ]);
    expect((await l1.getMany(['b', 'x', 'a'])).map((e) => e?.value)).toEqual([2, undefined, 1]);
    expect(await l1.deleteMany(['a', 'x', 'b'])).toBe(2);
    expect(l1.size).toBe(0);
  });

  it('never holds more than maxEntries entries', () => {
    const { l1, entry } = setup({ maxEntries: 3 });
    for (let i = 0; i < 10; i++) {
      l1.setSync(`k${i}`, entry(i));
      expect(l1.size).toBeLessThanOrEqual(3);
    }
    expect(l1.getSync('k9')?.value).toBe(9);
    expect(l1.stats().evictions).toBe(7);
  });

  it('keeps accounted bytes within maxBytes, counting key, value and overhead', () => {
    const sizeOf = () => 100;
    const perEntry = ENTRY_OVERHEAD_BYTES + 2 * 'k0'.length + 100;
    const { l1, entry } = setup({ maxBytes: perEntry * 3, sizeOf });
    for (let i = 0; i < 10; i++) {
      l1.setSync(`k${i}`, entry(i));
      expect(l1.bytes).toBeLessThanOrEqual(perEntry * 3);
    }
    expect(l1.bytes).toBe(perEntry * 3);
  });

  it('refuses an entry larger than maxBytes with E_CAPACITY and evicts nothing for it', () => {
    const { l1, entry } = setup({ maxBytes: 1_000, sizeOf: (v) => (v === 'big' ? 2_000 : 10) });
    l1.setSync('a', entry('small'));
    l1.setSync('b', entry('small'));
    const error = caught(() => l1.setSync('c', entry('big')));
    expect(isDcError(error, 'E_CAPACITY')).toBe(true);
    expect((error as Error).message).toContain('`maxBytes`');
    expect(l1.getSync('a')?.value).toBe('small');
    expect(l1.getSync('b')?.value).toBe('small');
    expect(l1.getSync('c')).toBeUndefined();
  });

  it('removes the previous entry of a key whose new entry is refused as too large', () => {
    const { l1, entry } = setup({ maxEntryBytes: 500, sizeOf: (v) => (v === 'big' ? 2_000 : 10) });
    l1.setSync('a', entry('small'));
    expect(
      isDcError(
        caught(() => l1.setSync('a', entry('big'))),
        'E_CAPACITY',
      ),
    ).toBe(true);
    expect(l1.getSync('a')).toBeUndefined();
  });

  it('refuses a fill larger than maxEntryBytes and drops the older entry of that key', () => {
    const { l1, entry } = setup({ maxEntryBytes: 500, sizeOf: (v) => (v === 'big' ? 2_000 : 10) });
    l1.fillSync('k', entry('old'));
    expect(l1.fillSync('k', entry('big'))).toBe(false);
    expect(l1.getSync('k')).toBeUndefined();
  });

  it('copies values on write and read when cloneValues is on', () => {
    const { l1, entry } = setup({ cloneValues: true });
    const value = { list: [1, 2] };
    l1.setSync('k', entry(value));
    value.list.push(3);
    const read = l1.getSync('k')?.value as { list: number[] };
    expect(read.list).toEqual([1, 2]);
    read.list.push(4);
    expect(l1.getSync('k')?.value).toEqual({ list: [1, 2] });
  });

  it('hands out one settled promise per entry to awaited hits, and a new one after a write', async () => {
    const { l1, entry } = setup();
    const first = l1.get('k');
    expect(await first).toBeUndefined();
    expect(l1.get('k')).toBe(first);
    l1.setSync('k', entry(1));
    const hit = l1.get('k');
    expect(l1.get('k')).toBe(hit);
    expect((await hit)?.value).toBe(1);
    l1.setSync('k', entry(2));
    expect(l1.get('k')).not.toBe(hit);
    expect((await l1.get('k'))?.value).toBe(2);
    expect(l1.stats()).toMatchObject({ hits: 4, misses: 2 });
  });

  it('returns the same object on a hit when cloneValues is off', () => {
    const { l1, entry } = setup();
    const value = { a: 1 };
    l1.setSync('k', entry(value));
    expect(l1.getSync('k')?.value).toBe(value);
  });

  it('rejects an uncloneable value with E_SERIALIZATION when cloneValues is on', () => {
    const { l1, entry } = setup({ cloneValues: true });
    expect(
      isDcError(
        caught(() =>
          l1.setSync(
            'k',
            entry(() => 1),
          ),
        ),
        'E_SERIALIZATION',
      ),
    ).toBe(true);
    expect(l1.getSync('k')).toBeUndefined();
  });

  it('refuses a fill when the key was deleted after the token was taken', () => {
    const { l1, entry } = setup();
    l1.setSync('k', entry('v1'));
    const token = l1.beginFill();
    l1.deleteSync('k');
    expect(l1.fillSync('k', entry('loaded-before-delete'), token)).toBe(false);
    expect(l1.getSync('k')).toBeUndefined();
    expect(l1.stats().fillsRefused).toBe(1);
  });

  it('refuses a fill when the key was overwritten or the store cleared after the token', () => {
    const { l1, entry } = setup();
    const token = l1.beginFill();
    l1.setSync('k', entry('newer'));
    expect(l1.fillSync('k', entry('older'), token)).toBe(false);
    expect(l1.getSync('k')?.value).toBe('newer');
    const beforeClear = l1.beginFill();
    l1.clearSync();
    expect(l1.fillSync('other', entry('x'), beforeClear)).toBe(false);
  });

  it('accepts a fill when only other keys changed, and a fill without a token', () => {
    const { l1, entry } = setup();
    const token = l1.beginFill();
    l1.setSync('other', entry(1));
    expect(l1.fillSync('k', entry('loaded'), token)).toBe(true);
    expect(l1.fillSync('j', entry('loaded'))).toBe(true);
    expect(l1.getSync('k')?.value).toBe('loaded');
    expect(l1.stats().fills).toBe(2);
  });

  it('refuses old tokens once more changes than maxTrackedChanges happened', () => {
    const { l1, entry } = setup({ maxTrackedChanges: 2 });
    const token = l1.beginFill();
    l1.deleteSync('a');
    l1.deleteSync('b');
    l1.deleteSync('c');
    expect(l1.fillSync('z', entry(1), token)).toBe(false);
    expect(l1.fillSync('z', entry(1), l1.beginFill())).toBe(true);
  });

  it('lists keys and clears everything', async () => {
    const { l1, entry } = setup();
    l1.setSync('a', entry(1));
    l1.setSync('b', entry(2));
    expect([...l1.keys()].sort()).toEqual(['a', 'b']);
    await l1.clear();
    expect(l1.size).toBe(0);
    expect(l1.getSync('a')).toBeUndefined();
  });

  it('rejects every call with E_CLOSED after close, and close is idempotent', async () => {
    const { l1, entry, clock } = setup();
    l1.setSync('k', entry(1));
    await Promise.all([l1.close(), l1.close()]);
    expect(
      isDcError(
        caught(() => l1.getSync('k')),
        'E_CLOSED',
      ),
    ).toBe(true);
    expect(
      isDcError(
        caught(() => l1.setSync('k', entry(1))),
        'E_CLOSED',
      ),
    ).toBe(true);
    await expect(l1.get('k')).rejects.toMatchObject({ code: 'E_CLOSED' });
    await expect(l1.clear()).rejects.toMatchObject({ code: 'E_CLOSED' });
    expect(clock.pendingTimers()).toBe(0);
  });
});

describe('createL1Store clockResolutionMs', () => {
  // A clock whose timers fire `lateMs` after they are due, as on a busy event loop.
  const lateTimers = (lateMs: number) => {
    const manual = createManualClock(START);
    const clock = {
      now: () => manual.now(),
      setTimer: (callback: () => void, delayMs: number) => manual.setTimer(callback, delayMs + lateMs),
    };
    return { manual, clock };
  };

  it('does not serve an entry at its expiresAt when the reused reading is older than that', async () => {
    const { manual, clock } = lateTimers(10);
    const l1 = createL1Store<number>({ clock, clockResolutionMs: 5 });
    l1.setSync('k', createEntry(1, { now: manual.now(), ttlMs: 8 }));
    expect(l1.getSync('k')?.value).toBe(1); // takes the reading at START; its refresh is due at +15
    manual.advance(7);
    expect(l1.getSync('k')?.value).toBe(1);
    manual.advance(1);
    expect(l1.getSync('k')).toBeUndefined();
    expect(l1.stats()).toMatchObject({ expirations: 1, size: 0 });
    await l1.close();
  });

  it('serves hits from one clock reading until its timer drops it', async () => {
    const manual = createManualClock(START);
    let reads = 0;
    const clock = {
      now: () => {
        reads++;
        return manual.now();
      },
      setTimer: (callback: () => void, delayMs: number) => manual.setTimer(callback, delayMs),
    };
    const l1 = createL1Store<number>({ clock, clockResolutionMs: 5 });
    l1.setSync('k', createEntry(1, { now: manual.now(), ttlMs: 60_000 }));
    manual.advance(5);
    const before = reads;
    for (let i = 0; i < 10; i++) expect(l1.getSync('k')?.value).toBe(1);
    expect(reads - before).toBe(1);
    manual.advance(5);
    l1.getSync('k');
    expect(reads - before).toBe(2);
    await l1.close();
  });

  it('leaves no timer behind after close', async () => {
    const clock = createManualClock(START);
    const l1 = createL1Store<number>({ clock, clockResolutionMs: 1 });
    l1.setSync('k', createEntry(1, { now: clock.now(), ttlMs: 60_000 }));
    l1.getSync('k');
    expect(clock.pendingTimers()).toBeGreaterThan(0);
    await l1.close();
    expect(clock.pendingTimers()).toBe(0);
  });
});
