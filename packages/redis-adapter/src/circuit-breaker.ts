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
  /** What the breaker guards (a node address), carried on the breaker for events. */
  name?: string;
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
  /** The `name` it was created with. */
  readonly name: string | undefined;
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
    name: options.name,
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

/** Options for {@link createBreakerRegistry}: every node's breaker gets the same settings. */
export interface BreakerRegistryOptions extends Omit<CircuitBreakerOptions, 'onStateChange' | 'name'> {
  /** Called on every state change of any node's breaker. */
  onStateChange?: (node: string, state: CircuitState) => void;
  /**
   * Most breakers kept; past it, closed breakers are dropped (a cluster whose node addresses keep
   * changing must not grow the registry forever). @default 1024
   */
  maxNodes?: number;
}

/**
 * One {@link CircuitBreaker} per node, created closed on first use, so a dead node refuses calls
 * for its own keys only.
 */
export interface BreakerRegistry {
  /** The node's breaker (created on first use). */
  get(node: string): CircuitBreaker;
  /** Probes `node`'s breaker now, or every open breaker when `node` is omitted. */
  probeNow(node?: string): void;
  /** The worst state over all nodes: `open` if any is open, else `half-open` if any is, else `closed`. */
  readonly state: CircuitState;
  /** Each known node's state. */
  states(): Record<string, CircuitState>;
  /** Cancels every breaker's timer. */
  dispose(): void;
}

const SEVERITY: Record<CircuitState, number> = { closed: 0, 'half-open': 1, open: 2 };

/** Creates a {@link BreakerRegistry}. Options are validated at once, not on first use. */
export function createBreakerRegistry(options: BreakerRegistryOptions = {}): BreakerRegistry {
  const { onStateChange, maxNodes = 1024, ...shared } = options;
  assertInteger(maxNodes, 'breaker.maxNodes', 1, 'redis');
  createCircuitBreaker(shared).dispose();
  const breakers = new Map<string, CircuitBreaker>();
  // Nodes whose breaker is not closed; the aggregate state reads only these.
  const notClosed = new Map<string, CircuitState>();

  const prune = () => {
    for (const [node, breaker] of breakers) {
      if (breakers.size < maxNodes) return;
      if (breaker.state !== 'closed') continue;
      breaker.dispose();
      breakers.delete(node);
    }
  };

  return {
    get(node) {
      let breaker = breakers.get(node);
      if (breaker !== undefined) return breaker;
      if (breakers.size >= maxNodes) prune();
      breaker = createCircuitBreaker({
        ...shared,
        name: node,
        onStateChange: (state) => {
          if (state === 'closed') notClosed.delete(node);
          else notClosed.set(node, state);
          onStateChange?.(node, state);
        },
      });
      breakers.set(node, breaker);
      return breaker;
    },
    probeNow(node) {
      if (node !== undefined) {
        breakers.get(node)?.probeNow();
        return;
      }
      for (const breaker of breakers.values()) breaker.probeNow();
    },
    get state() {
      let worst: CircuitState = 'closed';
      for (const state of notClosed.values()) if (SEVERITY[state] > SEVERITY[worst]) worst = state;
      return worst;
    },
    states() {
      const out: Record<string, CircuitState> = {};
      for (const [node, breaker] of breakers) out[node] = breaker.state;
      return out;
    },
    dispose() {
      for (const breaker of breakers.values()) breaker.dispose();
    },
  };
}
