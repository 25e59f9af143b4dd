import { assertNonNegativeMs } from './validation';

/** A scheduled callback that can be cancelled. */
export interface TimerHandle {
  /** Stops the callback from running; a no-op once it has run or been cancelled. */
  cancel(): void;
}

/**
 * The source of time for every TTL, timeout and background job in @dc, injected so that tests
 * move time forward instead of sleeping.
 */
export interface Clock {
  /** Current time in epoch milliseconds. */
  now(): number;
  /**
   * Runs `callback` once after `delayMs`. Real timers are `unref`'d: a cache's background work
   * never keeps a process alive on its own.
   */
  setTimer(callback: () => void, delayMs: number): TimerHandle;
}

/** A source of uniform random numbers in [0, 1), injected for deterministic tests. */
export type Random = () => number;

/** The wall clock with unref'd Node timers. */
export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  setTimer(callback: () => void, delayMs: number): TimerHandle {
    const timer = setTimeout(callback, delayMs);
    timer.unref?.();
    return { cancel: () => clearTimeout(timer) };
  },
});

/** A {@link Clock} that only moves when told to, for tests. */
export interface ManualClock extends Clock {
  /** Moves time forward by `ms`, running every timer that falls due, in due order. */
  advance(ms: number): void;
  /**
   * Like {@link ManualClock.advance}, but lets pending promise callbacks run after each timer,
   * so async work triggered by a timer settles before the next one fires.
   */
  advanceAsync(ms: number): Promise<void>;
  /** Sets the current time; it may not go backwards. Timers due by then run. */
  setTime(epochMs: number): void;
  /** Number of timers scheduled and not yet run or cancelled. */
  pendingTimers(): number;
}

interface ManualTimer {
  readonly dueAt: number;
  readonly seq: number;
  readonly callback: () => void;
  cancelled: boolean;
}

/** Creates a {@link ManualClock} starting at `startMs` (epoch ms). */
export function createManualClock(startMs = 0): ManualClock {
  assertNonNegativeMs(startMs, 'startMs');
  let now = startMs;
  let seq = 0;
  const timers = new Set<ManualTimer>();

  const nextDue = (limit: number): ManualTimer | undefined => {
    let next: ManualTimer | undefined;
    for (const timer of timers) {
      if (timer.dueAt > limit) continue;
      if (!next || timer.dueAt < next.dueAt || (timer.dueAt === next.dueAt && timer.seq < next.seq))
        next = timer;
    }
    return next;
  };

  const runOne = (target: number): boolean => {
    const timer = nextDue(target);
    if (!timer) return false;
    timers.delete(timer);
    now = Math.max(now, timer.dueAt);
    timer.callback();
    return true;
  };

  const assertForward = (ms: number) => assertNonNegativeMs(ms, 'ms');

  return {
    now: () => now,
    setTimer(callback, delayMs) {
      const timer: ManualTimer = {
        dueAt: now + Math.max(0, delayMs),
        seq: seq++,
        callback,
        cancelled: false,
      };
      timers.add(timer);
      return {
        cancel() {
          timer.cancelled = true;
          timers.delete(timer);
        },
      };
    },
    advance(ms) {
      assertForward(ms);
      const target = now + ms;
      while (runOne(target)) {}
      now = target;
    },
    async advanceAsync(ms) {
      assertForward(ms);
      const target = now + ms;
      await flushPromiseCallbacks();
      while (runOne(target)) await flushPromiseCallbacks();
      now = target;
      await flushPromiseCallbacks();
    },
    setTime(epochMs) {
      assertNonNegativeMs(epochMs - now, 'setTime delta (time may not go backwards)');
      this.advance(epochMs - now);
    },
    pendingTimers: () => timers.size,
  };
}

function flushPromiseCallbacks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
