import type { Clock, Loader } from '@dc/core';
import {
  assertNonNegativeMs,
  assertTtlMs,
  assertValidKey,
  createEntry,
  describeValue,
  InvalidOptionError,
  systemClock,
} from '@dc/core';
import { assertFunction, SCOPE } from './internal/validate';
import type { LeaseStore } from './lease';
import { createSingleFlight } from './single-flight';

/** Options for {@link createLeasedLoader}. */
export interface LeasedLoaderOptions<V = unknown> {
  /** The lease store shared by every process (memory for one process, Redis for many). */
  readonly leases: LeaseStore<V>;
  /** How long a filled value stays fresh (ms, > 0). */
  readonly ttlMs: number;
  /** How long past `staleAt` the value may still be served to readers that must wait (ms, >= 0). @default 0 */
  readonly graceMs?: number | undefined;
  /** Lease lifetime (ms, > 0); should exceed the slowest load. @default the store's default */
  readonly leaseTtlMs?: number | undefined;
  /** Delay between reads while another process holds the lease (ms, > 0). @default 50 */
  readonly retryMs?: number | undefined;
  /**
   * Longest wait for another process's fill (ms, >= 0); then this process loads itself, without
   * writing (it holds no lease). @default 1000
   */
  readonly maxWaitMs?: number | undefined;
  /** While another process fills, answer with the stale value if there is one. @default true */
  readonly serveStale?: boolean | undefined;
  /** Time source for the retry delay and entry timestamps. @default systemClock */
  readonly clock?: Clock | undefined;
  /** Receives failures to release a lease after a failed load (the load's error goes to the caller). */
  readonly onError?: ((error: unknown, key: string) => void) | undefined;
}

/** Defaults of {@link LeasedLoaderOptions}. */
export const DEFAULT_LEASED_LOADER_OPTIONS: Readonly<{
  graceMs: number;
  retryMs: number;
  maxWaitMs: number;
  serveStale: boolean;
}> = Object.freeze({ graceMs: 0, retryMs: 50, maxWaitMs: 1_000, serveStale: true });

/** Counters of a {@link LeasedLoader}. */
export interface LeasedLoaderStats {
  /** Loader calls made by this process. */
  readonly loads: number;
  /** Fills rejected because a `delete`/`set` voided the lease (or it lapsed) during the load. */
  readonly rejectedFills: number;
  /** Reads answered with a stale value while another process filled. */
  readonly staleServed: number;
}

/** Read-through over a {@link LeaseStore}: at most one fill per key across every process. */
export interface LeasedLoader<V = unknown> {
  /**
   * The value for `key`: a hit, this process's load (when it won the lease), the stale value
   * or another process's fill (when it did not).
   */
  getOrLoad(key: string, loader: Loader<V>): Promise<V>;
  /** Keys this process is reading or loading right now. */
  inFlightCount(): number;
  /** Counters since creation. */
  stats(): LeasedLoaderStats;
}

/**
 * Creates a {@link LeasedLoader}: concurrent callers in this process share one attempt
 * (single-flight); across processes the lease picks one filler and the rest wait or serve stale.
 * @throws InvalidOptionError for invalid options.
 */
export function createLeasedLoader<V = unknown>(options: LeasedLoaderOptions<V>): LeasedLoader<V> {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError(`[dc:${SCOPE}] options must be an object, got ${describeValue(options)}`);
  }
  const d = DEFAULT_LEASED_LOADER_OPTIONS;
  const { leases, ttlMs, leaseTtlMs, onError } = options;
  if (typeof leases !== 'object' || leases === null || typeof leases.fill !== 'function') {
    throw new InvalidOptionError(
      `[dc:${SCOPE}] \`leases\` must be a LeaseStore, got ${describeValue(leases)}`,
    );
  }
  assertTtlMs(ttlMs, 'ttlMs', SCOPE);
  const graceMs = options.graceMs ?? d.graceMs;
  assertNonNegativeMs(graceMs, 'graceMs', SCOPE);
  if (leaseTtlMs !== undefined) assertTtlMs(leaseTtlMs, 'leaseTtlMs', SCOPE);
  const retryMs = options.retryMs ?? d.retryMs;
  assertTtlMs(retryMs, 'retryMs', SCOPE);
  const maxWaitMs = options.maxWaitMs ?? d.maxWaitMs;
  assertNonNegativeMs(maxWaitMs, 'maxWaitMs', SCOPE);
  const serveStale = options.serveStale ?? d.serveStale;
  const clock = options.clock ?? systemClock;
  if (onError !== undefined) assertFunction(onError, 'onError');
  const group = createSingleFlight<V>();
  const getOptions = { leaseTtlMs };
  let loads = 0;
  let rejectedFills = 0;
  let staleServed = 0;

  const sleep = (ms: number) => new Promise<void>((resolve) => clock.setTimer(resolve, ms));

  const attempt = async (key: string, loader: Loader<V>): Promise<V> => {
    const deadline = clock.now() + maxWaitMs;
    for (;;) {
      const read = await leases.get(key, getOptions);
      if (read.status === 'hit') return read.entry.value;
      if (read.status === 'lease') {
        const startedAt = clock.now();
        let value: V;
        loads++;
        try {
          value = await loader(key, {});
        } catch (error) {
          await leases.release(read.token).catch((releaseError: unknown) => onError?.(releaseError, key));
          throw error;
        }
        const now = clock.now();
        const entry = createEntry(value, { now, ttlMs, graceMs, deltaMs: Math.max(0, now - startedAt) });
        if (!(await leases.fill(read.token, entry))) rejectedFills++;
        return value;
      }
      if (serveStale && read.stale !== undefined) {
        staleServed++;
        return read.stale.value;
      }
      const left = deadline - clock.now();
      if (left <= 0) {
        loads++;
        return loader(key, {});
      }
      await sleep(Math.min(retryMs, left));
    }
  };

  return {
    getOrLoad(key, loader) {
      try {
        assertValidKey(key, SCOPE);
        assertFunction(loader, 'loader');
      } catch (error) {
        return Promise.reject(error);
      }
      return group.run(key, () => attempt(key, loader));
    },
    inFlightCount: () => group.inFlightCount(),
    stats: () => ({ loads, rejectedFills, staleServed }),
  };
}
