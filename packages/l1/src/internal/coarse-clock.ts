import type { Clock, TimerHandle } from '@dc/core';

/**
 * How late (ms) the refresh timer may fire, beyond `resolutionMs`, before a hit can be served
 * past its deadline. Entries this close to their deadline are checked against the exact clock.
 */
export const LATE_TIMER_SLACK_MS = 16;

/**
 * A {@link Clock} whose `now()` reuses one reading of `exact` until a timer of `resolutionMs`
 * drops it (lru-cache's `ttlResolution` idea): a busy hit path reads the clock about once per
 * `resolutionMs` instead of once per hit. The reading lags real time by at most
 * `resolutionMs` + 1 (integer ms) + the timer's lateness; the caller covers that with
 * {@link CoarseClock.guardMs}: a deadline within `guardMs` of the reading is checked exactly.
 * A class, so the hit path's `now()` is a constant method V8 can inline.
 */
export class CoarseClock implements Clock {
  /** A deadline more than this many ms past `now()` has not passed on `exact` either. */
  readonly guardMs: number;
  // -1: no reading held; the next now() reads `exact` and arms the timer.
  private reading = -1;
  private timer: TimerHandle | undefined;
  private closed = false;
  private readonly forget = (): void => {
    this.reading = -1;
    this.timer = undefined;
  };

  constructor(
    /** The clock the readings come from. */
    readonly exact: Clock,
    private readonly resolutionMs: number,
  ) {
    this.guardMs = resolutionMs + 1 + LATE_TIMER_SLACK_MS;
  }

  now(): number {
    const reading = this.reading;
    return reading === -1 ? this.refresh() : reading;
  }

  setTimer(callback: () => void, delayMs: number): TimerHandle {
    return this.exact.setTimer(callback, delayMs);
  }

  /** Cancels the pending refresh timer; later `now()` calls read `exact` every time. */
  close(): void {
    this.closed = true;
    this.timer?.cancel();
    this.forget();
  }

  private refresh(): number {
    const now = this.exact.now();
    if (this.closed) return now;
    this.reading = now;
    this.timer = this.exact.setTimer(this.forget, this.resolutionMs);
    return now;
  }
}
