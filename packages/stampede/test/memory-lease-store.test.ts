import { createEntry, createManualClock, isDcError } from '@dc/core';
import { describe, expect, it } from 'vitest';
import { createMemoryLeaseStore } from '../src/index';
import { runLeaseContract } from './lease-contract';

runLeaseContract('createMemoryLeaseStore', () => {
  const clock = createManualClock(1_000);
  const leases = createMemoryLeaseStore<string>({ clock });
  return { leases, now: clock.now, advance: (ms) => clock.advanceAsync(ms), teardown: () => leases.close() };
});

describe('createMemoryLeaseStore', () => {
  it('uses leaseTtlMs from its options when get passes none', async () => {
    const clock = createManualClock();
    const leases = createMemoryLeaseStore<string>({ clock, leaseTtlMs: 100 });
    await leases.get('k');
    clock.advance(99);
    expect((await leases.get('k')).status).toBe('wait');
    clock.advance(1);
    expect((await leases.get('k')).status).toBe('lease');
  });

  it('schedules no timers', async () => {
    const clock = createManualClock();
    const leases = createMemoryLeaseStore<string>({ clock });
    await leases.get('k');
    await leases.set('j', createEntry('v', { now: 0, ttlMs: 10 }));
    expect(clock.pendingTimers()).toBe(0);
  });

  it('rejects calls after close with E_CLOSED and rejects a bad leaseTtlMs option', async () => {
    const leases = createMemoryLeaseStore<string>({ clock: createManualClock() });
    await leases.close();
    expect(isDcError(await leases.get('k').catch((e: unknown) => e), 'E_CLOSED')).toBe(true);
    expect(() => createMemoryLeaseStore({ leaseTtlMs: 0 })).toThrow(/leaseTtlMs/);
  });
});
