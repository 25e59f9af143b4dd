import type { Clock, TimerHandle } from '@dc/core';
import {
  assertInteger,
  assertTtlMs,
  assertValidKey,
  CacheUnavailableError,
  ClosedError,
  InvalidOptionError,
  systemClock,
} from '@dc/core';
import { SCOPE } from './internal/scope';
import { assertClock, assertFunction } from './internal/validate';

/**
 * Writes one key's summed delta to the shared store, e.g.
 * `(key, delta) => redis.incrby(key, delta)`. Called at most once per key per flush.
 */
export type CounterFlush = (key: string, delta: number) => Promise<unknown> | unknown;

/** Options for {@link createCounterAggregator}. */
export interface CounterAggregatorOptions {
  /** Writes one key's delta (an `INCRBY`). A rejection keeps the delta for the next flush. */
  flush: CounterFlush;
  /**
   * Longest time an increment waits in process before its flush starts (ms); also the shortest
   * gap between two flushes. It is the loss bound on a crash. @default 1_000
   */
  flushIntervalMs?: number;
  /** Distinct pending keys that trigger a flush before the interval ends. Integer >= 1. @default 10_000 */
  maxPending?: number;
  /** Time source for the flush timer. @default systemClock */
  clock?: Clock;
  /** Told about every failed per-key flush (the delta is kept and retried). */
  onError?: (error: unknown, key: string, delta: number) => void;
}

/** Defaults of {@link CounterAggregatorOptions}. */
export const DEFAULT_COUNTER_AGGREGATOR_OPTIONS = Object.freeze({
  flushIntervalMs: 1_000,
  maxPending: 10_000,
});

/** {@link CounterAggregatorOptions} after defaults and validation. */
export interface ResolvedCounterAggregatorOptions {
  readonly flush: CounterFlush;
  readonly flushIntervalMs: number;
  readonly maxPending: number;
  readonly clock: Clock;
  readonly onError: ((error: unknown, key: string, delta: number) => void) | undefined;
}

/**
 * Merges `options` with {@link DEFAULT_COUNTER_AGGREGATOR_OPTIONS} and validates them.
 * @throws InvalidOptionError (`E_INVALID_OPTION`) naming the first bad option.
 */
export function resolveCounterAggregatorOptions(
  options: CounterAggregatorOptions,
): ResolvedCounterAggregatorOptions {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError(`[dc:${SCOPE}] createCounterAggregator() needs an options object`);
  }
  assertFunction(options.flush, 'flush');
  const flushIntervalMs = options.flushIntervalMs ?? DEFAULT_COUNTER_AGGREGATOR_OPTIONS.flushIntervalMs;
  assertTtlMs(flushIntervalMs, 'flushIntervalMs', SCOPE);
  const maxPending = options.maxPending ?? DEFAULT_COUNTER_AGGREGATOR_OPTIONS.maxPending;
  assertInteger(maxPending, 'maxPending', 1, SCOPE);
  const clock = options.clock ?? systemClock;
  assertClock(clock);
  if (options.onError !== undefined) assertFunction(options.onError, 'onError');
  return { flush: options.flush, flushIntervalMs, maxPending, clock, onError: options.onError };
}

/** A snapshot of a {@link CounterAggregator}'s counters. */
export interface CounterAggregatorMetrics {
  /** Keys with increments not yet acknowledged by `flush` (queued or in flight). */
  readonly pendingKeys: number;
  /** `increment` calls not yet acknowledged by `flush` (queued, in flight, or kept after a failure). */
  readonly pendingIncrements: number;
  /** Flush rounds started. */
  readonly flushes: number;
  /** Per-key `flush` calls that succeeded / failed. */
  readonly flushCalls: number;
  readonly failedCalls: number;
  /** `increment` calls acknowledged by `flush` so far. */
  readonly flushedIncrements: number;
}

/** Result of one flush round. */
export interface CounterFlushResult {
  /** Keys written successfully. */
  readonly flushedKeys: number;
  /** Keys whose write failed; their deltas are pending again. */
  readonly failedKeys: number;
}

/** Sums increments in process and writes them as one call per key per interval. */
export interface CounterAggregator {
  /**
   * Adds `by` to `key`'s pending delta. Synchronous and I/O-free.
   * @throws InvalidKeyError for a bad key, InvalidOptionError for a non-finite `by`,
   *   ClosedError after `close()`.
   */
  increment(key: string, by?: number): void;
  /** Starts a flush round now (after any round in flight) and resolves when it is done. Never rejects. */
  flush(): Promise<CounterFlushResult>;
  /** Deltas not yet acknowledged, per key (queued, in flight, or kept after a failure). */
  pending(): Map<string, number>;
  /** Counters for export. */
  metrics(): CounterAggregatorMetrics;
  /**
   * Stops the timer and flushes everything pending. Rejects with `E_STORE_UNAVAILABLE` when some
   * keys still fail; those stay in `pending()` and a later `flush()` retries them. Idempotent.
   */
  close(): Promise<void>;
}

interface Pending {
  delta: number;
  calls: number;
}

/**
 * Creates a counter aggregator: `increment` sums in process; every `flushIntervalMs` (or once
 * `maxPending` keys wait) each key is written once with its summed delta. A failed write is
 * merged back and retried at the next flush, never dropped. On a crash, the increments lost are
 * those not yet acknowledged: at most one `flushIntervalMs` of them while `flush` succeeds.
 */
export function createCounterAggregator(options: CounterAggregatorOptions): CounterAggregator {
  const resolved = resolveCounterAggregatorOptions(options);
  const { flushIntervalMs, maxPending, clock } = resolved;
  let queued = new Map<string, Pending>();
  let inFlight = new Map<string, Pending>();
  let timer: TimerHandle | undefined;
  let running: Promise<CounterFlushResult> | undefined;
  let rerun = false;
  // While the target fails, early (`maxPending`) rounds stop and retries wait for the timer.
  let lastRoundFailed = false;
  // Rounds start at least `flushIntervalMs` apart, counted from creation for the first one.
  let lastRoundAt = clock.now();
  let closed = false;
  let pendingIncrements = 0;
  let flushes = 0;
  let flushCalls = 0;
  let failedCalls = 0;
  let flushedIncrements = 0;

  function arm(): void {
    if (timer !== undefined || running !== undefined || closed || queued.size === 0) return;
    timer = clock.setTimer(
      () => {
        timer = undefined;
        void flushNow();
      },
      Math.max(0, lastRoundAt + flushIntervalMs - clock.now()),
    );
  }

  async function round(): Promise<CounterFlushResult> {
    timer?.cancel();
    timer = undefined;
    lastRoundAt = clock.now();
    flushes++;
    inFlight = queued;
    queued = new Map();
    const batch = [...inFlight];
    const results = await Promise.allSettled(
      batch.map(([key, p]) => Promise.resolve().then(() => resolved.flush(key, p.delta))),
    );
    let failedKeys = 0;
    results.forEach((result, i) => {
      const [key, p] = batch[i] as [string, Pending];
      if (result.status === 'fulfilled') {
        flushCalls++;
        flushedIncrements += p.calls;
        pendingIncrements -= p.calls;
        return;
      }
      failedCalls++;
      failedKeys++;
      const merged = queued.get(key);
      if (merged === undefined) queued.set(key, p);
      else {
        merged.delta += p.delta;
        merged.calls += p.calls;
      }
      try {
        resolved.onError?.(result.reason, key, p.delta);
      } catch {
        // A throwing error hook must not lose the delta or break the round.
      }
    });
    inFlight = new Map();
    lastRoundFailed = failedKeys > 0;
    return { flushedKeys: batch.length - failedKeys, failedKeys };
  }

  function flushNow(): Promise<CounterFlushResult> {
    if (running !== undefined) {
      // The round in flight loops once more before it resolves.
      rerun = true;
      return running;
    }
    running = (async () => {
      let result: CounterFlushResult;
      do {
        rerun = false;
        result = await round();
      } while (rerun);
      // Same synchronous step as the loop's last check: no flushNow() can slip in between.
      running = undefined;
      arm();
      return result;
    })();
    return running;
  }

  return {
    increment(key, by = 1) {
      if (closed) throw new ClosedError(`[dc:${SCOPE}] counter aggregator is closed`);
      assertValidKey(key, SCOPE);
      if (typeof by !== 'number' || !Number.isFinite(by)) {
        throw new InvalidOptionError(`[dc:${SCOPE}] \`by\` must be a finite number, got ${String(by)}`);
      }
      const p = queued.get(key);
      if (p === undefined) queued.set(key, { delta: by, calls: 1 });
      else {
        p.delta += by;
        p.calls++;
      }
      pendingIncrements++;
      if (queued.size >= maxPending && !lastRoundFailed) void flushNow();
      else arm();
    },
    flush: flushNow,
    pending() {
      const out = new Map<string, number>();
      for (const source of [inFlight, queued]) {
        for (const [key, p] of source) out.set(key, (out.get(key) ?? 0) + p.delta);
      }
      return out;
    },
    metrics() {
      const keys = new Set([...inFlight.keys(), ...queued.keys()]);
      return {
        pendingKeys: keys.size,
        pendingIncrements,
        flushes,
        flushCalls,
        failedCalls,
        flushedIncrements,
      };
    },
    async close() {
      closed = true;
      timer?.cancel();
      timer = undefined;
      if (running !== undefined) await running;
      if (queued.size > 0) await flushNow();
      if (queued.size > 0) {
        throw new CacheUnavailableError(
          `[dc:${SCOPE}] close() could not flush ${queued.size} counter key(s); they stay in pending() and flush() retries them`,
        );
      }
    },
  };
}
