import { createManualClock, isDcError } from '@dc/core';
import { describe, expect, it } from 'vitest';
import { createCoarseClock, LATE_TIMER_SLACK_MS } from '../src/index';

const START = 1_700_000_000_000;

describe('createCoarseClock', () => {
  it('reuses one reading until its timer drops it, then reads again', () => {
    const exact = createManualClock(START);
    const coarse = createCoarseClock({ clock: exact, resolutionMs: 5 });
    expect(coarse.reading).toBe(-1);
    expect(coarse.now()).toBe(START);
    exact.advance(4);
    expect(coarse.now()).toBe(START);
    exact.advance(1);
    expect(coarse.reading).toBe(-1);
    expect(coarse.now()).toBe(START + 5);
    coarse.close();
  });

  it('covers resolution, integer-ms rounding and the timer slack with guardMs', () => {
    const coarse = createCoarseClock({ clock: createManualClock(START), resolutionMs: 3 });
    expect(coarse.guardMs).toBe(3 + 1 + LATE_TIMER_SLACK_MS);
    coarse.close();
  });

  it('leaves no timer behind after close and reads the exact clock afterwards', () => {
    const exact = createManualClock(START);
    const coarse = createCoarseClock({ clock: exact, resolutionMs: 5 });
    coarse.now();
    expect(exact.pendingTimers()).toBe(1);
    coarse.close();
    expect(exact.pendingTimers()).toBe(0);
    exact.advance(2);
    expect(coarse.now()).toBe(START + 2);
    expect(exact.pendingTimers()).toBe(0);
  });

  it.each([
    ['resolutionMs', { clock: createManualClock(), resolutionMs: 0 }],
    ['resolutionMs', { clock: createManualClock(), resolutionMs: Number.NaN }],
    ['clock', { clock: { now: (): number => 0 }, resolutionMs: 1 }],
  ])('rejects a bad `%s` with E_INVALID_OPTION naming it', (name, options) => {
    let error: unknown;
    try {
      createCoarseClock(options as never);
    } catch (e) {
      error = e;
    }
    expect(isDcError(error, 'E_INVALID_OPTION')).toBe(true);
    expect((error as Error).message).toContain(`\`${name}\``);
  });
});
