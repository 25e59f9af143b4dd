import type { LoadContext, Loader, LoaderMiddleware } from '@dc/core';
import { assertValidKey } from '@dc/core';
import { assertFunction, noop, SCOPE } from './internal/validate';

/** Options for one {@link SingleFlight.run} call. */
export interface SingleFlightRunOptions {
  /**
   * Aborting it makes this caller leave (its promise rejects with `signal.reason`); the load goes
   * on for the other callers. When every caller of a load has left, the loader's
   * `LoadContext.signal` is aborted.
   */
  readonly signal?: AbortSignal | undefined;
}

/** Counters of one {@link SingleFlight} group, for metrics. */
export interface SingleFlightStats {
  /** Loads started (loader calls). */
  readonly loads: number;
  /** Calls that joined a load already in flight instead of starting one. */
  readonly coalesced: number;
}

/**
 * Per-instance request coalescing: concurrent calls for one key share one loader call. Every
 * caller gets the same value or the same error; a rejected load is not remembered, so the next
 * call retries.
 */
export interface SingleFlight<V = unknown> {
  /**
   * Runs `loader(key)` unless a load of `key` is already in flight, in which case it joins it.
   * @throws InvalidKeyError (as a rejection) when `key` is not a non-empty string.
   */
  run(key: string, loader: Loader<V>, options?: SingleFlightRunOptions): Promise<V>;
  /** Number of keys with a load in flight (0 once every load has settled). */
  inFlightCount(): number;
  /** True while a load of `key` is in flight. */
  isInFlight(key: string): boolean;
  /** Loads started and calls coalesced since creation. */
  stats(): SingleFlightStats;
}

interface Flight<V> {
  readonly promise: Promise<V>;
  readonly controller: AbortController;
  /** Callers still waiting that can leave (passed a signal); `Infinity` once one cannot. */
  waiters: number;
}

/** Creates an independent {@link SingleFlight} group; state is never shared between groups. */
export function createSingleFlight<V = unknown>(): SingleFlight<V> {
  const flights = new Map<string, Flight<V>>();
  let loads = 0;
  let coalesced = 0;

  const start = (key: string, loader: Loader<V>): Flight<V> => {
    const controller = new AbortController();
    const context: LoadContext = { signal: controller.signal };
    loads++;
    const flight = { controller, waiters: 0 } as Flight<V> & { promise: Promise<V> };
    // Registered before the loader runs: a loader that throws synchronously settles (and
    // unregisters) within this call.
    flights.set(key, flight);
    // The map entry is removed before any caller sees the outcome, so a caller that retries
    // from its rejection handler starts a fresh load instead of re-joining the failed one.
    flight.promise = (async () => {
      try {
        return await loader(key, context);
      } finally {
        if (flights.get(key) === flight) flights.delete(key);
      }
    })();
    // Every caller may have left; the shared promise must never become an unhandled rejection.
    flight.promise.catch(noop);
    return flight;
  };

  const join = (flight: Flight<V>, signal: AbortSignal): Promise<V> =>
    new Promise<V>((resolve, reject) => {
      flight.waiters++;
      const onAbort = () => {
        flight.waiters--;
        reject(signal.reason);
        if (flight.waiters === 0) flight.controller.abort(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      flight.promise.then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });

  return {
    run(key, loader, options) {
      try {
        assertValidKey(key, SCOPE);
        assertFunction(loader, 'loader');
      } catch (error) {
        return Promise.reject(error);
      }
      const signal = options?.signal;
      if (signal?.aborted) return Promise.reject(signal.reason);
      let flight = flights.get(key);
      if (flight === undefined) flight = start(key, loader);
      else coalesced++;
      if (signal === undefined) {
        // A caller that cannot leave keeps the load alive for good.
        flight.waiters = Number.POSITIVE_INFINITY;
        return flight.promise;
      }
      return join(flight, signal);
    },
    inFlightCount: () => flights.size,
    isInFlight: (key) => flights.has(key),
    stats: () => ({ loads, coalesced }),
  };
}

/** A {@link LoaderMiddleware} that coalesces concurrent loads per key, with its own in-flight map. */
export interface SingleFlightMiddleware<V = unknown> extends LoaderMiddleware<V> {
  /** The group behind the middleware (in-flight count, stats). */
  readonly group: SingleFlight<V>;
}

/**
 * Loader middleware: concurrent loads of one key through the wrapped loader run it once. Each
 * call creates a new group; the caller's `LoadContext.signal` is its per-waiter abort signal.
 *
 * @example
 * const load = composeLoader(fetchUser, singleFlight());
 */
export function singleFlight<V = unknown>(): SingleFlightMiddleware<V> {
  const group = createSingleFlight<V>();
  const middleware = (next: Loader<V>): Loader<V> => {
    assertFunction(next, 'next');
    return (key, context) => group.run(key, next, context);
  };
  return Object.assign(middleware, { group });
}
