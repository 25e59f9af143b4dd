import {
  type CacheEntry,
  createEntry,
  createManualClock,
  defineStore,
  isDcError,
  type SyncCacheStore,
} from '@dc/core';
import { describe, expect, it } from 'vitest';
import { createHotKeyDetector, withHotKeyPromotion } from '../src/index';
import { createMapStore } from './helpers';

/** A tiny map L1 with the sync face, honouring `expiresAt`. */
function createSyncL1(now: () => number) {
  const data = new Map<string, CacheEntry<string>>();
  const sync: SyncCacheStore<string> = {
    getSync: (key) => {
      const entry = data.get(key);
      return entry !== undefined && now() < entry.expiresAt ? entry : undefined;
    },
    setSync: (key, entry) => void data.set(key, entry),
    deleteSync: (key) => data.delete(key),
  };
  const store = defineStore<string>({
    name: 'map-l1',
    get: async (key) => sync.getSync(key),
    set: async (key, entry) => sync.setSync(key, entry),
    delete: async (key) => sync.deleteSync(key),
    clear: async () => data.clear(),
  });
  return Object.assign(store, sync, { data });
}

function setup(hotL1TtlMs = 1_000) {
  const clock = createManualClock(1_000_000);
  const detector = createHotKeyDetector({ windowMs: 2_000, topK: 4, threshold: 50, clock });
  const l2 = createMapStore<string>('l2', clock.now);
  const l1 = createSyncL1(clock.now);
  const store = withHotKeyPromotion<string>({ detector, l1, hotL1TtlMs })(l2);
  const entry = (value: string) => createEntry(value, { now: clock.now(), ttlMs: 600_000 });
  return { clock, detector, l1, l2, store, entry };
}

describe('withHotKeyPromotion', () => {
  it('keeps L2 GETs of a key with 50% of the traffic within 3 x ceil(30/1) + 3 when 3 instances run 30 s with hotL1TtlMs 1 s (FAULTS E4)', async () => {
    const clock = createManualClock(1_000_000);
    const l2 = createMapStore<string>('l2', clock.now);
    const entry = (value: string) => createEntry(value, { now: clock.now(), ttlMs: 3_600_000 });
    await l2.set('celebrity', entry('profile'));
    for (let i = 0; i < 100; i++) await l2.set(`user:${i}`, entry(`u${i}`));
    // threshold * (windowMs / 8) = 1 request: a key is hot from its first read in each instance.
    const instances = Array.from({ length: 3 }, () => {
      const detector = createHotKeyDetector({ windowMs: 1_000, topK: 4, threshold: 8, clock });
      const store = withHotKeyPromotion<string>({ detector, l1: createSyncL1(clock.now), hotL1TtlMs: 1_000 })(
        l2,
      );
      return { detector, store };
    });
    // 30 s, 1 request/ms spread round-robin over the instances, every other one to the hot key.
    for (let ms = 0; ms < 30_000; ms++) {
      const key = ms % 2 === 0 ? 'celebrity' : `user:${(ms >> 1) % 100}`;
      const { store } = instances[ms % 3] as (typeof instances)[number];
      expect((await store.get(key))?.value).toBe(key === 'celebrity' ? 'profile' : `u${(ms >> 1) % 100}`);
      clock.advance(1);
    }
    const hotGets = l2.gets.get('celebrity') ?? 0;
    expect(hotGets).toBeLessThanOrEqual(3 * Math.ceil(30_000 / 1_000) + 3);
    expect(hotGets).toBeGreaterThanOrEqual(3 * 29);
    for (const { detector, store } of instances) {
      expect(detector.isHot('celebrity')).toBe(true);
      expect(store.metrics().l1Hits).toBeGreaterThan(4_900);
      detector.close();
    }
    // Cold keys (150 reads each) stay cold and keep going to L2.
    expect(l2.gets.get('user:1')).toBeGreaterThan(140);
  });

  it('returns the new value right after a write through the decorator when the key is hot', async () => {
    const { clock, store, entry, detector } = setup();
    await store.set('k', entry('v1'));
    for (let i = 0; i < 200; i++) {
      await store.get('k');
      clock.advance(1);
    }
    expect(detector.isHot('k')).toBe(true);
    expect(store.metrics().l1Hits).toBeGreaterThan(0);
    await store.set('k', entry('v2'));
    expect((await store.get('k'))?.value).toBe('v2');
    await store.delete('k');
    expect(await store.get('k')).toBeUndefined();
    detector.close();
  });

  it('does not promote a value read before a concurrent write when the write lands first', async () => {
    const { clock, store, entry, detector, l1 } = setup();
    await store.set('k', entry('old'));
    for (let i = 0; i < 200; i++) {
      detector.record('k');
      clock.advance(1);
    }
    expect(detector.isHot('k')).toBe(true);
    const read = store.get('k'); // misses L1, reads L2 ('old')
    const write = store.set('k', entry('new'));
    await Promise.all([read, write]);
    expect(l1.data.get('k')?.value ?? 'new').toBe('new');
    expect((await store.get('k'))?.value).toBe('new');
    detector.close();
  });

  it('caps the promoted copy at hotL1TtlMs and drops it when the key cools down', async () => {
    const { clock, store, entry, detector, l1 } = setup(1_500);
    await store.set('k', entry('v'));
    for (let i = 0; i < 300; i++) {
      await store.get('k');
      clock.advance(1);
    }
    const copy = l1.data.get('k');
    expect(copy).toBeDefined();
    expect((copy as CacheEntry<string>).expiresAt - clock.now()).toBeLessThanOrEqual(1_500);
    clock.advance(60_000);
    expect(detector.isHot('k')).toBe(false);
    expect(l1.data.has('k')).toBe(false);
    expect(store.metrics().promotedKeys).toBe(0);
    detector.close();
  });

  it('serves hot keys through getMany from L1 and the rest from the store', async () => {
    const { clock, store, entry, detector, l2 } = setup();
    await store.setMany([
      ['hot', entry('h')],
      ['cold', entry('c')],
    ]);
    for (let i = 0; i < 200; i++) {
      await store.get('hot');
      clock.advance(1);
    }
    const before = l2.gets.get('hot') ?? 0;
    const values = await store.getMany(['hot', 'cold', 'missing']);
    expect(values.map((e) => e?.value)).toEqual(['h', 'c', undefined]);
    expect(l2.gets.get('hot') ?? 0).toBe(before);
    expect(await store.deleteMany(['hot', 'cold'])).toBe(2);
    expect(await store.get('hot')).toBeUndefined();
    detector.close();
  });

  it('throws E_INVALID_OPTION for a bad hotL1TtlMs, detector or l1', () => {
    const clock = createManualClock(0);
    const detector = createHotKeyDetector({ clock });
    const l1 = createSyncL1(clock.now);
    for (const options of [
      { detector, l1, hotL1TtlMs: 0 },
      { detector, l1, hotL1TtlMs: Number.NaN },
      { detector: {} as never, l1 },
      { detector, l1: {} as never },
    ]) {
      let caught: unknown;
      try {
        withHotKeyPromotion(options);
      } catch (error) {
        caught = error;
      }
      expect(isDcError(caught, 'E_INVALID_OPTION')).toBe(true);
    }
    detector.close();
  });
});
