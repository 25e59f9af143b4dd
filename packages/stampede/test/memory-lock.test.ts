import { createManualClock, isDcError } from '@dc/core';
import { describe, expect, it } from 'vitest';
import { createMemoryLock } from '../src/index';
import { runDistributedLockContract } from './lock-contract';

runDistributedLockContract('createMemoryLock', () => {
  const clock = createManualClock(1_000);
  const lock = createMemoryLock({ clock });
  return { lock, advance: (ms) => clock.advanceAsync(ms), teardown: () => lock.close() };
});

describe('createMemoryLock', () => {
  it('waits on timers, not by polling', async () => {
    const clock = createManualClock();
    const lock = createMemoryLock({ clock });
    await lock.acquire('k', { ttlMs: 1_000 });
    const waiting = lock.acquire('k', { ttlMs: 1_000, waitMs: 500 });
    // One timer for the holder's expiry, one for the waiter's deadline.
    expect(clock.pendingTimers()).toBe(2);
    await clock.advanceAsync(500);
    await expect(waiting).resolves.toBeNull();
    expect(clock.pendingTimers()).toBe(1);
  });

  it('serves waiters first come, first served', async () => {
    const clock = createManualClock();
    const lock = createMemoryLock({ clock });
    const held = await lock.acquire('k', { ttlMs: 1_000 });
    const order: string[] = [];
    const a = lock.acquire('k', { ttlMs: 100, waitMs: 5_000 }).then((t) => {
      order.push('a');
      return t;
    });
    const b = lock.acquire('k', { ttlMs: 100, waitMs: 5_000 }).then((t) => {
      order.push('b');
      return t;
    });
    await lock.release(held as NonNullable<typeof held>);
    const ta = await a;
    await lock.release(ta as NonNullable<typeof ta>);
    await b;
    expect(order).toEqual(['a', 'b']);
  });

  it('resolves pending waits with null on close, cancels its timers, and rejects later calls with E_CLOSED', async () => {
    const clock = createManualClock();
    const lock = createMemoryLock({ clock });
    await lock.acquire('k', { ttlMs: 1_000 });
    const waiting = lock.acquire('k', { ttlMs: 1_000, waitMs: 5_000 });
    await lock.close();
    await expect(waiting).resolves.toBeNull();
    expect(clock.pendingTimers()).toBe(0);
    const error = await lock.acquire('k', { ttlMs: 1 }).catch((e: unknown) => e);
    expect(isDcError(error, 'E_CLOSED')).toBe(true);
  });
});
