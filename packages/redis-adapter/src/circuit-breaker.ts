import { assertInteger, assertTtlMs, type Clock, systemClock, type TimerHandle } from '@dc/core';

/** `closed`: calls flow; `open`: no calls; `half-open`: one probe call decides. */
export type CircuitState = 'closed' | 'open' | 'half-open';

/** Options for {@link createCircuitBreaker}. */
export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. @default 5 */
  failureThreshold?: number;
  /** How long the circuit stays open before one probe call is let through (ms). @default 500 */
  openMs?: number;
  /** Source of time for the open period. @default systemClock */
  clock?: Clock;
  /** Called on every state change. */
  onStateChange?: (state: CircuitState) => void;
}

/** Defaults for {@link createCircuitBreaker}. */
export const DEFAULT_CIRCUIT_BREAKER_OPTIONS = Object.freeze({ failureThreshold: 5, openMs: 500 });

/**
 * A consecutive-failure circuit breaker. While open, {@link CircuitBreaker.tryAcquire} refuses
 * every call; after `openMs` (or on {@link CircuitBreaker.probeNow}, e.g. when the client
 * reconnects) exactly one probe call is allowed, whose outcome closes or re-opens the circuit.
 */
export interface CircuitBreaker {
  readonly state: CircuitState;
  /** True when a call may go out now (in half-open, only the first caller gets `true`). */
  tryAcquire(): boolean;
  /** Reports a successful call. */
  onSuccess(): void;
  /** Reports a failed call. */
  onFailure(): void;
  /** Moves an open circuit to half-open at once (the connection just came back). */
  probeNow(): void;
  /** Cancels the open-period timer. */
  dispose(): void;
}

/** Creates a {@link CircuitBreaker}. */
export function createCircuitBreaker(options: CircuitBreakerOptions = {}): CircuitBreaker {
  const failureThreshold = options.failureThreshold ?? DEFAULT_CIRCUIT_BREAKER_OPTIONS.failureThreshold;
  const openMs = options.openMs ?? DEFAULT_CIRCUIT_BREAKER_OPTIONS.openMs;
  assertInteger(failureThreshold, 'breaker.failureThreshold', 1, 'redis');
  assertTtlMs(openMs, 'breaker.openMs', 'redis');
  const clock = options.clock ?? systemClock;
  const onStateChange = options.onStateChange;

  let state: CircuitState = 'closed';
  let failures = 0;
  let probing = false;
  let timer: TimerHandle | undefined;

  const moveTo = (next: CircuitState) => {
    if (state === next) return;
    state = next;
    onStateChange?.(next);
  };
  const open = () => {
    probing = false;
    timer?.cancel();
    timer = clock.setTimer(() => {
      timer = undefined;
      if (state === 'open') moveTo('half-open');
    }, openMs);
    moveTo('open');
  };

  return {
    get state() {
      return state;
    },
    tryAcquire() {
      if (state === 'closed') return true;
      if (state === 'half-open' && !probing) {
        probing = true;
        return true;
      }
      return false;
    },
    onSuccess() {
      failures = 0;
      if (state !== 'closed') {
        probing = false;
        timer?.cancel();
        timer = undefined;
        moveTo('closed');
      }
    },
    onFailure() {
      if (state === 'half-open') {
        open();
        return;
      }
      if (state === 'open') return;
      if (++failures >= failureThreshold) open();
    },
    probeNow() {
      if (state !== 'open') return;
      timer?.cancel();
      timer = undefined;
      moveTo('half-open');
    },
    dispose() {
      timer?.cancel();
      timer = undefined;
    },
  };
}
