import { createEntry, createManualClock, isDcError } from '@dc/core';
import { seededRandom } from '@dc/testkit';
import { describe, expect, it } from 'vitest';
import { createHotKeyDetector, suffixReplicaKeys, withHotKeyReplicas } from '../src/index';
import { createMapStore } from './helpers';

function setup(options: { replicas?: number; replicaTtlMs?: number } = {}) {
  const clock = createManualClock(1_000_000);
  const detector = createHotKeyDetector({ windowMs: 2_000, topK: 4, threshold: 50, clock });
  const base = createMapStore<string>('map', clock.now);
  const store = withHotKeyReplicas<string>({ detector, random: seededRandom(3), ...options })(base);
  const entry = (value: string) => createEntry(value, { now: clock.now(), ttlMs: 600_000 });
  const heat = (key: string) => {
    for (let i = 0; i < 200 && !detector.isHot(key); i++) {
      detector.record(key);
      clock.advance(1);
    }
    expect(detector.isHot(key)).toBe(true);
  };
  return { clock, detector, base, store, entry, heat };
}

describe('withHotKeyReplicas', () => {
  it('spreads reads of a hot key over its replicas and writes every replica', async () => {
    const { detector, base, store, entry, heat } = setup({ replicas: 3 });
    await store.set('celebrity', entry('v1'));
    heat('celebrity');
    expect(store.metrics().replicatedKeys).toEqual(['celebrity']);
    await store.set('celebrity', entry('v2'));
    for (const name of ['celebrity', 'celebrity#0', 'celebrity#1', 'celebrity#2']) {
      expect(base.data.get(name)?.value).toBe('v2');
    }
    const before = base.gets.get('celebrity') ?? 0;
    for (let i = 0; i < 300; i++) expect((await store.get('celebrity'))?.value).toBe('v2');
    expect(base.gets.get('celebrity') ?? 0).toBe(before);
    for (const name of store.replicaKeysOf('celebrity')) {
      expect(base.gets.get(name)).toBeGreaterThan(60);
    }
    expect(await store.delete('celebrity')).toBe(true);
    for (const name of ['celebrity', 'celebrity#0', 'celebrity#1', 'celebrity#2']) {
      expect(base.data.has(name)).toBe(false);
    }
    expect(await store.get('celebrity')).toBeUndefined();
    detector.close();
  });

  it('falls back to the base key and repairs the replica when a replica misses', async () => {
    const { detector, base, store, entry, heat } = setup({ replicas: 2 });
    await store.set('k', entry('v'));
    heat('k'); // became hot after the write: replicas are empty
    for (let i = 0; i < 20; i++) expect((await store.get('k'))?.value).toBe('v');
    expect(base.data.get('k#0')?.value).toBe('v');
    expect(base.data.get('k#1')?.value).toBe('v');
    const m = store.metrics();
    expect(m.replicaMisses).toBe(2);
    expect(m.repairs).toBe(2);
    detector.close();
  });

  it('caps replica copies at replicaTtlMs and keeps fanning writes out until they expire after a cool-down', async () => {
    const { clock, detector, base, store, entry, heat } = setup({ replicas: 2, replicaTtlMs: 5_000 });
    heat('k');
    await store.set('k', entry('v1'));
    expect((base.data.get('k#0')?.expiresAt ?? 0) - clock.now()).toBe(5_000);
    // Silence: the detector cools the key.
    for (let i = 0; i < 1_000 && detector.isHot('k'); i++) clock.advance(100);
    expect(detector.isHot('k')).toBe(false);
    expect(store.metrics()).toMatchObject({ replicatedKeys: [], lingeringKeys: 1 });
    // Cooled 'k' while copies may live: a write still reaches every replica.
    const cooledAt = clock.now();
    await store.set('k', entry('v2'));
    expect(base.data.get('k#1')?.value).toBe('v2');
    clock.advance(5_000);
    expect(clock.now() - cooledAt).toBeGreaterThanOrEqual(5_000);
    const setsBefore = base.sets.get('k#0') ?? 0;
    await store.set('k', entry('v3'));
    expect(base.sets.get('k#0')).toBe(setsBefore);
    expect(await base.get('k#0')).toBeUndefined(); // expired by its capped TTL
    expect(store.metrics().lingeringKeys).toBe(0);
    detector.close();
  });

  it('replicates a fixed key set without a detector', async () => {
    const clock = createManualClock(0);
    const base = createMapStore<string>('map', clock.now);
    const store = withHotKeyReplicas<string>({ keys: ['pinned'], replicas: 2, clock, random: () => 0.99 })(
      base,
    );
    await store.set('pinned', createEntry('x', { now: 0, ttlMs: 1_000 }));
    await store.set('other', createEntry('y', { now: 0, ttlMs: 1_000 }));
    expect([...base.data.keys()].sort()).toEqual(['other', 'pinned', 'pinned#0', 'pinned#1']);
    await store.get('pinned');
    expect(base.gets.get('pinned#1')).toBe(1);
    expect((await store.getMany(['pinned', 'other', 'none'])).map((e) => e?.value)).toEqual([
      'x',
      'y',
      undefined,
    ]);
    expect(await store.deleteMany(['pinned', 'other'])).toBe(2);
    expect(base.data.size).toBe(0);
  });

  it('uses the injected namer for replica names', async () => {
    const clock = createManualClock(0);
    const base = createMapStore<string>('map', clock.now);
    const store = withHotKeyReplicas<string>({
      keys: ['a'],
      replicas: 2,
      clock,
      replicaKeys: (key, n) => Array.from({ length: n }, (_, i) => `{r${i}}${key}`),
    })(base);
    await store.setMany([['a', createEntry('x', { now: 0, ttlMs: 1_000 })]]);
    expect([...base.data.keys()].sort()).toEqual(['a', '{r0}a', '{r1}a']);
    expect(suffixReplicaKeys('a', 2)).toEqual(['a#0', 'a#1']);
  });

  it('throws E_INVALID_OPTION for replicas < 1, no key source, or a namer returning bad names', async () => {
    const clock = createManualClock(0);
    for (const options of [
      { keys: ['a'], replicas: 0 },
      { keys: ['a'], replicas: 1.5 },
      { keys: ['a'], replicas: Number.NaN },
      { replicas: 2 },
      { keys: ['a'], replicaTtlMs: Number.POSITIVE_INFINITY },
      { keys: ['a'], replicaKeys: 'x' as never },
    ]) {
      let caught: unknown;
      try {
        withHotKeyReplicas({ clock, ...options });
      } catch (error) {
        caught = error;
      }
      expect(isDcError(caught, 'E_INVALID_OPTION'), JSON.stringify(options)).toBe(true);
    }
    const base = createMapStore<string>('map', clock.now);
    const store = withHotKeyReplicas<string>({
      keys: ['a'],
      replicas: 2,
      clock,
      replicaKeys: () => ['same', 'same'],
    })(base);
    const error = await store.set('a', createEntry('x', { now: 0, ttlMs: 10 })).catch((e: unknown) => e);
    expect(isDcError(error, 'E_INVALID_OPTION')).toBe(true);
    expect(base.data.size).toBe(0);
  });
});
