import type { Clock, TimerHandle } from '@dc/core';
import { assertTtlMs, describeValue, InvalidOptionError } from '@dc/core';

/**
 * How late (ms) a {@link CoarseClock}'s refresh timer may fire, beyond its resolution, before
 * {@link CoarseClock.guardMs} stops covering the lag of its reading.
 */
export const LATE_TIMER_SLACK_MS = 16;

/** Options of {@link createCoarseClock}. */
export interface CoarseClockOptions {
  /** The clock the readings come from. */
  clock: Clock;
  /** How long (ms, > 0) one reading is reused. */
  resolutionMs: number;
}

/**
 * A {@link Clock} whose `now()` reuses one reading of `exact` until an (unref'd, for the system
 * clock) timer of `resolutionMs` drops it — lru-cache's `ttlResolution` idea: a busy hit path
 * reads the clock about once per `resolutionMs` instead of once per call.
 *
 * The reading lags the exact clock by at most `resolutionMs` + 1 (integer ms) + the timer's
 * lateness. A caller that must never act after a deadline compares with {@link guardMs}:
 * `deadline - coarse.now() > coarse.guardMs` proves the deadline has not passed as long as the
 * timer is at most {@link LATE_TIMER_SLACK_MS} late (one synchronous stretch blocking the event
 * loop longer than that is the only way it can be wrong); otherwise ask `coarse.exact.now()`.
 */
export interface CoarseClock extends Clock {
  /** The clock the readings come from. */
  readonly exact: Clock;
  /** A deadline more than this many ms after `now()` has not passed on `exact` either (see above). */
  readonly guardMs: number;
  /** The reading `now()` returns until its timer drops it; -1 while none is held. */
  readonly reading: number;
  /** Cancels the pending refresh timer; later `now()` calls read `exact` every time. */
  close(): void;
}

// A class, so a hot path's `now()` is a constant method V8 can inline.
class CoarseClockImpl implements CoarseClock {
  readonly guardMs: number;
  reading = -1;
  private timer: TimerHandle | undefined;
  private closed = false;
  private readonly forget = (): void => {
    this.reading = -1;
    this.timer = undefined;
  };

  constructor(
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

/**
 * Creates a {@link CoarseClock}; `close()` it when done (it holds at most one pending timer).
 * @throws InvalidOptionError for a missing clock or a `resolutionMs` that is not a positive number.
 */
export function createCoarseClock(options: CoarseClockOptions): CoarseClock {
  const { clock, resolutionMs } = options ?? ({} as CoarseClockOptions);
  if (typeof clock?.now !== 'function' || typeof clock.setTimer !== 'function')
    throw new InvalidOptionError(
      `[dc:l1] \`clock\` must be a Clock with \`now()\` and \`setTimer()\`, got ${describeValue(clock)}`,
    );
  assertTtlMs(resolutionMs, 'resolutionMs', 'l1');
  return new CoarseClockImpl(clock, resolutionMs);
}
