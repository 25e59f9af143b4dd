import { describe, expect, it } from 'vitest';
import type { CacheEntry } from '../src/index';
import { createEntry, defineStore, entryState, isDcError, isSyncCacheStore } from '../src/index';

function mapBackend() {
  const map = new Map<string, CacheEntry<string>>();
  const calls: string[] = [];
  const store = defineStore<string>({
    name: 'map',
    async get(key) {
      calls.push(`get:${key}`);
      return map.get(key);
    },
    async set(key, entry) {
      calls.push(`set:${key}`);
      map.set(key, entry);
    },
    async delete(key) {
      calls.push(`delete:${key}`);
      return map.delete(key);
    },
    async clear() {
      map.clear();
    },
  });
  return { map, calls, store };
}

const entry = (value: string) => createEntry(value, { now: 0, ttlMs: 1_000 });

describe('defineStore', () => {
  it('derives batch operations from single ones', async () => {
    const { store } = mapBackend();
    await store.setMany([
      ['a', entry('1')],
      ['b', entry('2')],
    ]);
    expect((await store.getMany(['a', 'x', 'b'])).map((e) => e?.value)).toEqual(['1', undefined, '2']);
    expect(await store.deleteMany(['a', 'x'])).toBe(1);
    expect(await store.get('a')).toBeUndefined();
  });

  it('rejects bad keys and entries before any backend call and keeps stored data', async () => {
    const { store, calls, map } = mapBackend();
    await store.set('keep', entry('v'));
    calls.length = 0;
    await expect(store.get('')).rejects.toMatchObject({ code: 'E_INVALID_KEY' });
    await expect(
      store.set('k', { value: 1, expiresAt: Number.NaN, staleAt: 0 } as never),
    ).rejects.toMatchObject({
      code: 'E_INVALID_OPTION',
    });
    await expect(store.set('k', { value: 1, expiresAt: 10, staleAt: 20 } as never)).rejects.toMatchObject({
      code: 'E_INVALID_OPTION',
    });
    await expect(
      store.setMany([
        ['ok', entry('1')],
        ['', entry('2')],
      ]),
    ).rejects.toMatchObject({
      code: 'E_INVALID_KEY',
    });
    expect(calls).toEqual([]);
    expect(map.get('keep')?.value).toBe('v');
    expect(map.has('ok')).toBe(false);
  });

  it('rejects every call after close and closes once', async () => {
    let closes = 0;
    const store = defineStore({
      name: 'x',
      get: async () => undefined,
      set: async () => {},
      delete: async () => false,
      clear: async () => {},
      close: async () => {
        closes++;
      },
    });
    await Promise.all([store.close(), store.close()]);
    expect(closes).toBe(1);
    const error = await store.get('k').catch((e: unknown) => e);
    expect(isDcError(error, 'E_CLOSED')).toBe(true);
  });

  it('is not mistaken for a sync store', () => {
    expect(isSyncCacheStore(mapBackend().store)).toBe(false);
  });
});

describe('createEntry / entryState', () => {
  it('moves from fresh to stale to expired', () => {
    const e = createEntry('v', { now: 100, ttlMs: 10, graceMs: 5 });
    expect(e).toMatchObject({ staleAt: 110, expiresAt: 115 });
    expect(entryState(e, 109)).toBe('fresh');
    expect(entryState(e, 110)).toBe('stale');
    expect(entryState(e, 115)).toBe('expired');
  });

  it.each([Number.NaN, -1, Number.POSITIVE_INFINITY, 0])('rejects ttlMs %s', (ttlMs) => {
    expect(() => createEntry('v', { now: 0, ttlMs })).toThrow(/`ttlMs`/);
  });
});
