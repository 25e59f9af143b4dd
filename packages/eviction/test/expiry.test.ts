import { createManualClock } from '@dc/core';
import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../src/index';

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
}

describe('active expiry', () => {
  it('reclaims expired keys nobody reads again, on the clock timer', () => {
    const clock = createManualClock(0);
    const store = createMemoryStore<number>({ maxEntries: 10_000, clock, random: seeded(7) });
    const expired: string[] = [];
    store.on('expire', (key) => expired.push(key));
    for (let i = 0; i < 1_000; i++) store.set(`short${i}`, i, { ttlMs: 50 });
    for (let i = 0; i < 100; i++) store.set(`long${i}`, i, { ttlMs: 1_000_000 });
    expect(clock.pendingTimers()).toBe(1);
    // Bounded: each cycle samples at most expirySampleSize x expiryMaxRounds keys.
    for (let i = 0; i < 50 && store.size > 100; i++) clock.advance(100);
    expect(store.size).toBe(100);
    expect(expired.length).toBe(1_000);
    expect([...store.keys()].every((k) => k.startsWith('long'))).toBe(true);
  });

  it('stops after a round whose sample is at most 25% expired', () => {
    const clock = createManualClock(0);
    const store = createMemoryStore<number>({
      maxEntries: 10_000,
      clock,
      random: seeded(1),
      activeExpiry: false,
    });
    for (let i = 0; i < 100; i++) store.set(`s${i}`, i, { ttlMs: 10 });
    for (let i = 0; i < 900; i++) store.set(`l${i}`, i, { ttlMs: 10_000 });
    clock.advance(10);
    const removed = store.runExpiryCycle();
    // 10% expired: the first sample of 20 finds few, so the cycle stops after one round.
    expect(removed).toBeLessThanOrEqual(20);
    expect(store.size).toBe(1_000 - removed);
  });

  it('schedules no timer for keys without a TTL and none once the last TTL key is gone', () => {
    const clock = createManualClock(0);
    const store = createMemoryStore<number>({ maxEntries: 10, clock });
    store.set('a', 1);
    expect(clock.pendingTimers()).toBe(0);
    store.set('b', 2, { ttlMs: 10 });
    expect(clock.pendingTimers()).toBe(1);
    clock.advance(200);
    expect(store.has('b')).toBe(false);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('leaves no timer after close, even when TTL keys are written afterwards', () => {
    const clock = createManualClock(0);
    const store = createMemoryStore<number>({ maxEntries: 10, clock });
    store.set('a', 1, { ttlMs: 1_000 });
    expect(clock.pendingTimers()).toBe(1);
    store.close();
    expect(clock.pendingTimers()).toBe(0);
    expect(store.size).toBe(0);
    store.close();
    store.set('b', 1, { ttlMs: 1_000 });
    expect(clock.pendingTimers()).toBe(0);
    clock.advance(1_000);
    expect(store.get('b')).toBeUndefined();
  });
});
