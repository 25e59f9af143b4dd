import { describe, expect, it } from 'vitest';
import { createManualClock, systemClock } from '../src/index';

describe('createManualClock', () => {
  it('runs timers in due order as time advances, at their due time', () => {
    const clock = createManualClock(1_000);
    const fired: Array<[string, number]> = [];
    clock.setTimer(() => fired.push(['b', clock.now()]), 20);
    clock.setTimer(() => fired.push(['a', clock.now()]), 10);
    clock.setTimer(() => fired.push(['c', clock.now()]), 50);
    clock.advance(30);
    expect(fired).toEqual([
      ['a', 1_010],
      ['b', 1_020],
    ]);
    expect(clock.now()).toBe(1_030);
    expect(clock.pendingTimers()).toBe(1);
  });

  it('runs timers scheduled by timers within the same advance', () => {
    const clock = createManualClock();
    let runs = 0;
    const tick = () => {
      runs++;
      clock.setTimer(tick, 10);
    };
    clock.setTimer(tick, 10);
    clock.advance(100);
    expect(runs).toBe(10);
  });

  it('does not run cancelled timers', () => {
    const clock = createManualClock();
    let ran = false;
    clock
      .setTimer(() => {
        ran = true;
      }, 5)
      .cancel();
    clock.advance(10);
    expect(ran).toBe(false);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('lets promise callbacks settle between timers with advanceAsync', async () => {
    const clock = createManualClock();
    const seen: number[] = [];
    clock.setTimer(() => {
      void Promise.resolve().then(() => seen.push(clock.now()));
    }, 10);
    await clock.advanceAsync(20);
    expect(seen).toEqual([10]);
  });

  it('refuses to go backwards', () => {
    const clock = createManualClock(100);
    expect(() => clock.setTime(50)).toThrow(/backwards/);
    expect(() => clock.advance(-1)).toThrow(/E_INVALID_OPTION|must be/);
  });
});

describe('systemClock', () => {
  it('reports wall-clock time and fires timers', async () => {
    const before = Date.now();
    expect(systemClock.now()).toBeGreaterThanOrEqual(before);
    await new Promise<void>((resolve) => systemClock.setTimer(resolve, 1));
  });
});
