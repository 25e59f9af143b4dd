import type { CacheEntry, CacheStore, Clock, Random } from '@dc/core';
import { defineStore } from '@dc/core';

/** A promise plus its resolve/reject, for loaders a test settles by hand. */
export function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Resolves after `ms` on `clock` (a manual clock moves it with `advanceAsync`). */
export function after<T>(clock: Clock, ms: number, value: T): Promise<T> {
  return new Promise((resolve) => clock.setTimer(() => resolve(value), ms));
}

/** Seeded uniform [0, 1) numbers (mulberry32). */
export function seeded(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Counts `unhandledRejection` events while a test runs. */
export function trackUnhandled() {
  const seen: unknown[] = [];
  const onUnhandled = (reason: unknown) => seen.push(reason);
  process.on('unhandledRejection', onUnhandled);
  return {
    seen,
    stop: () => process.off('unhandledRejection', onUnhandled),
  };
}

export interface ChaosControl {
  /** Probability in [0, 1] that a call throws. */
  throwProbability: number;
  /** Largest delay (ms, on the clock) added to a call. */
  maxDelayMs: number;
  calls: number;
  thrown: number;
}

/**
 * A decorator that makes an L2 flaky (FAULTS A7): each call fails (is never applied) with
 * `throwProbability`, and every answer takes up to `maxDelayMs` on `clock`. Set both to 0 for
 * "neverThrow".
 */
export function withChaos<V>(
  inner: CacheStore<V>,
  clock: Clock,
  random: Random,
  control: ChaosControl,
): CacheStore<V> {
  const wrap = async <T>(run: () => Promise<T>): Promise<T> => {
    control.calls++;
    const delay = Math.floor(random() * control.maxDelayMs);
    if (random() < control.throwProbability) {
      if (delay > 0) await after(clock, delay, undefined);
      control.thrown++;
      throw new Error('chaos: L2 call failed');
    }
    // Applied when sent, answered late: one client's commands keep their order, as on one
    // Redis connection.
    const result = run();
    result.catch(() => {});
    if (delay > 0) await after(clock, delay, undefined);
    return result;
  };
  return defineStore<V>({
    name: 'chaos',
    get: (key) => wrap(() => inner.get(key)),
    set: (key, entry: CacheEntry<V>) => wrap(() => inner.set(key, entry)),
    delete: (key) => wrap(() => inner.delete(key)),
    clear: () => wrap(() => inner.clear()),
  });
}
