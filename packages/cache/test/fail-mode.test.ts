import type { CacheStore, ManualClock } from '@dc/core';
import { createManualClock, defineStore, isDcError } from '@dc/core';
import { createInProcessBus } from '@dc/l1';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCache, createEmbeddedStore } from '../src';
import type { ChaosControl } from './helpers';
import { after, seeded, trackUnhandled, withChaos } from './helpers';

const START = 1_700_000_000_000;
let unhandled: ReturnType<typeof trackUnhandled>;
beforeEach(() => {
  unhandled = trackUnhandled();
});
afterEach(() => {
  unhandled.stop();
});

/** An L2 whose every call fails, or never answers. */
function brokenStore<V>(mode: 'throw' | 'hang'): CacheStore<V> {
  const fail = (): Promise<never> =>
    mode === 'throw' ? Promise.reject(new Error('ECONNREFUSED')) : new Promise<never>(() => {});
  return defineStore<V>({ name: 'broken', get: fail, set: fail, delete: fail, clear: fail });
}

/** Advances `clock` in `stepMs` steps until `done` settles (bounded). */
async function drive(clock: ManualClock, done: Promise<unknown>, stepMs = 25, maxSteps = 200): Promise<void> {
  let settled = false;
  void done.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  for (let i = 0; i < maxSteps && !settled; i++) await clock.advanceAsync(stepMs);
}

describe('createCache fail-open (default)', () => {
  it('answers from the loader within twice l2Timeout when L2 never answers, and reports it', async () => {
    const clock = createManualClock(START);
    const cache = createCache<string>({ clock, l2: brokenStore('hang'), l2Timeout: '100ms' });
    const errors: string[] = [];
    cache.on('store:error', ({ op, timedOut }) => errors.push(`${op}:${timedOut}`));
    let answeredAt = 0;
    const pending = cache
      .getOrSet('k', async () => 'from source')
      .then((v) => {
        answeredAt = clock.now();
        return v;
      });
    await drive(clock, pending, 10);
    expect(await pending).toBe('from source');
    expect(answeredAt - START).toBeLessThanOrEqual(200);
    expect(errors).toEqual(['get:true', 'set:true']);
    // A loaded value that missed L2 is not replayed: another instance may write a newer one.
    expect(cache.stats()).toMatchObject({ l2Errors: 2, l2Timeouts: 2, pendingL2Writes: 0 });
    expect(await cache.getOrSet('k', async () => 'again')).toBe('from source'); // L1 still serves
    await cache.close();
  });

  it('replays a failed L2 write once L2 is back and invalidates the key everywhere', async () => {
    const clock = createManualClock(START);
    const inner = createEmbeddedStore<string>({ clock });
    const control: ChaosControl = { throwProbability: 1, maxDelayMs: 0, calls: 0, thrown: 0 };
    const l2 = withChaos(inner, clock, seeded(7), control);
    const cache = createCache<string>({ clock, l2, autoRecovery: '1s' });
    const recovered: string[] = [];
    cache.on('store:recovered', ({ key }) => recovered.push(key));
    await cache.set('k', 'v1');
    expect(await cache.get('k')).toBe('v1'); // L1, and the remembered write
    expect(cache.stats().pendingL2Writes).toBe(1);
    await clock.advanceAsync(1_000); // still down: kept
    expect(cache.stats().pendingL2Writes).toBe(1);
    control.throwProbability = 0;
    await clock.advanceAsync(1_000);
    expect(recovered).toEqual(['k']);
    expect(inner.getSync('k')?.value).toBe('v1');
    expect(cache.stats()).toMatchObject({ pendingL2Writes: 0, recoveredL2Writes: 1 });
    await cache.close();
    await inner.close();
    expect(clock.pendingTimers()).toBe(0);
  });

  it('surfaces 0 errors under a chaos L2 (throw 0.3, delays 0–300 ms, 10k ops) and converges once healthy (A7)', async () => {
    const clock = createManualClock(START);
    const random = seeded(20261127);
    const inner = createEmbeddedStore<number>({ clock });
    const control: ChaosControl = { throwProbability: 0.3, maxDelayMs: 300, calls: 0, thrown: 0 };
    const bus = createInProcessBus();
    const nodes = [0, 1, 2].map(() =>
      createCache<number>({
        clock,
        l2: withChaos(inner, clock, random, control),
        bus,
        l2Timeout: '100ms',
        ttl: '1m',
      }),
    );
    const db = new Map<string, number>();
    let version = 0;
    let surfaced = 0;
    let maxLatencyMs = 0;
    const keys = 50;
    for (let batch = 0; batch < 500; batch++) {
      const ops: Promise<unknown>[] = [];
      const startedAt = clock.now();
      for (let j = 0; j < 20; j++) {
        const n = Math.floor(random() * 3);
        const node = nodes[n] as (typeof nodes)[number];
        // Each node writes its own keys (k ≡ n mod 3) and reads every key.
        const k = Math.floor(random() * keys);
        const key = `k${k}`;
        const op =
          random() < 0.3 && k % 3 === n
            ? (() => {
                version++;
                db.set(key, version);
                return node.set(key, version);
              })()
            : node.getOrSet(key, async () => db.get(key) ?? 0);
        ops.push(
          op.then(
            () => {
              maxLatencyMs = Math.max(maxLatencyMs, clock.now() - startedAt);
            },
            () => {
              surfaced++;
            },
          ),
        );
      }
      await drive(clock, Promise.all(ops));
    }
    expect(control.thrown).toBeGreaterThan(1_000);
    expect(surfaced).toBe(0);
    // One L2 read, the loader and one L2 write, each bounded by l2Timeout (100 ms).
    expect(maxLatencyMs).toBeLessThanOrEqual(225);

    control.throwProbability = 0;
    control.maxDelayMs = 0;
    await clock.advanceAsync(1_000 + 1_000); // the recovery interval + 1 s
    for (const [key, value] of db) {
      for (const node of nodes) expect(await node.get(key)).toBe(value);
    }
    await Promise.all(nodes.map((node) => node.settle()));
    await new Promise((resolve) => setImmediate(resolve));
    expect(unhandled.seen).toEqual([]);
    console.log(
      JSON.stringify({
        acked: 10_000 - surfaced,
        errorsSurfaced: surfaced,
        unhandled: unhandled.seen.length,
        maxLatMs: maxLatencyMs,
        l2Thrown: control.thrown,
        pendingAfter: nodes.map((n) => n.stats().pendingL2Writes),
      }),
    );
    await Promise.all(nodes.map((node) => node.close()));
    await bus.close();
  });
});

describe('createCache fail-closed', () => {
  it('rejects every operation with CacheUnavailableError when L2 fails', async () => {
    const cache = createCache<string>({ l2: brokenStore('throw'), failMode: 'closed' });
    const loader = async () => 'v';
    for (const call of [
      () => cache.getOrSet('k', loader),
      () => cache.get('k'),
      () => cache.set('k', 'v'),
      () => cache.delete('k'),
      () => cache.clear(),
    ]) {
      const error = await call().catch((e) => e);
      expect(isDcError(error, 'E_STORE_UNAVAILABLE')).toBe(true);
      expect(error.cause).toBeInstanceOf(Error);
    }
    expect(cache.stats().pendingL2Writes).toBe(0);
    await cache.close();
  });

  it('rejects within l2Timeout when L2 never answers', async () => {
    const clock = createManualClock(START);
    const cache = createCache<string>({
      clock,
      l2: brokenStore('hang'),
      failMode: 'closed',
      l2Timeout: '50ms',
    });
    let rejectedAt = 0;
    const pending = cache
      .getOrSet('k', async () => 'v')
      .catch((error) => {
        rejectedAt = clock.now();
        return error;
      });
    await drive(clock, pending, 10);
    expect(isDcError(await pending, 'E_STORE_UNAVAILABLE')).toBe(true);
    expect(rejectedAt - START).toBe(50);
    await cache.close();
  });

  it('drops the L1 copy when a set fails, so the older value is not served', async () => {
    const clock = createManualClock(START);
    const inner = createEmbeddedStore<string>({ clock });
    const control: ChaosControl = { throwProbability: 0, maxDelayMs: 0, calls: 0, thrown: 0 };
    const cache = createCache<string>({
      clock,
      l2: withChaos(inner, clock, seeded(1), control),
      failMode: 'closed',
    });
    await cache.set('k', 'old');
    control.throwProbability = 1;
    expect(isDcError(await cache.set('k', 'new').catch((e) => e), 'E_STORE_UNAVAILABLE')).toBe(true);
    expect(cache.l1?.getSync('k')).toBeUndefined();
    await cache.close();
  });
});

describe('createCache with a lock', () => {
  it('loads once across two instances sharing an L2 and a lock', async () => {
    const { createMemoryLock } = await import('@dc/stampede');
    const clock = createManualClock(START);
    const l2 = createEmbeddedStore<string>({ clock });
    const lock = createMemoryLock({ clock });
    const a = createCache<string>({ clock, l2, lock });
    const b = createCache<string>({ clock, l2, lock });
    let calls = 0;
    const loader = () => {
      calls++;
      return after(clock, 300, 'v');
    };
    const all = Promise.all([
      ...Array.from({ length: 100 }, () => a.getOrSet('k', loader)),
      ...Array.from({ length: 100 }, () => b.getOrSet('k', loader)),
    ]);
    await drive(clock, all, 50);
    expect((await all).every((v) => v === 'v')).toBe(true);
    expect(calls).toBe(1);
    await Promise.all([a.close(), b.close(), lock.close(), l2.close()]);
  });
});
