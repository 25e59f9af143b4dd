import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createEntry, isDcError } from '@dc/core';
import { type RedisNode, waitFor } from '@dc/testkit';
import type { RedisStore } from '../src/index';

/** The counter line every fault test prints (FAULTS.md). */
export interface ChaosCounters {
  scenario: string;
  acked: number;
  errorsSurfaced: number;
  unhandled: number;
  maxLatMs: number;
  p99LatMs: number;
  errWindowMs: number;
  lostAcked: number;
  ambiguous: number;
  staleReads: number;
  factoryCalls: number;
  heapDeltaMB: number;
  activeHandles: number;
  [extra: string]: number | string;
}

/** One store call as the load loop saw it. */
export interface OpSample {
  readonly startedAt: number;
  readonly latMs: number;
  /** `ok`: resolved; `typed`: rejected with E_STORE_UNAVAILABLE; `other`: any other rejection. */
  readonly outcome: 'ok' | 'typed' | 'other';
  readonly hit: boolean;
}

/** Records unhandled rejections / exceptions for the duration of a test. */
export function trackUnhandled(): { count(): number; stop(): void } {
  let count = 0;
  const onRejection = () => count++;
  const onException = () => count++;
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtExceptionMonitor', onException);
  return {
    count: () => count,
    stop() {
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtExceptionMonitor', onException);
    },
  };
}

/**
 * `workers` loops of getOrSet against the store (get, then set on a miss) over `keys` keys until
 * `stop()` is called. Every call is timed and classified; nothing is ever allowed to throw out.
 */
export function startLoad(
  store: RedisStore<number>,
  options: { workers?: number; keys?: number; ttlMs?: number } = {},
): { samples: OpSample[]; factoryCalls(): number; stop(): Promise<void> } {
  const { workers = 20, keys = 10_000, ttlMs = 60_000 } = options;
  const samples: OpSample[] = [];
  let running = true;
  let factoryCalls = 0;
  let seed = 12345;
  const random = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const timed = async <T>(fn: () => Promise<T>, isHit: (v: T) => boolean): Promise<T | undefined> => {
    const startedAt = performance.now();
    try {
      const value = await fn();
      samples.push({ startedAt, latMs: performance.now() - startedAt, outcome: 'ok', hit: isHit(value) });
      return value;
    } catch (error) {
      samples.push({
        startedAt,
        latMs: performance.now() - startedAt,
        outcome: isDcError(error, 'E_STORE_UNAVAILABLE') ? 'typed' : 'other',
        hit: false,
      });
      return undefined;
    }
  };
  const worker = async () => {
    // Bounded even if stop() were never called.
    for (let i = 0; running && i < 10_000_000; i++) {
      const key = `k${Math.floor(random() * keys)}`;
      const entry = await timed(
        () => store.get(key),
        (e) => e !== undefined,
      );
      if (entry === undefined) {
        factoryCalls++;
        // The data source: about a millisecond per load.
        await new Promise((r) => setTimeout(r, 1));
        await timed(
          () => store.set(key, createEntry(i, { now: Date.now(), ttlMs })),
          () => false,
        );
      }
      // Lets timers and socket events run between ops even when every op short-circuits.
      if (i % 16 === 0) await new Promise((r) => setImmediate(r));
    }
  };
  const all = Array.from({ length: workers }, worker);
  return {
    samples,
    factoryCalls: () => factoryCalls,
    async stop() {
      running = false;
      await Promise.all(all);
    },
  };
}

/** p99 of `values` (0 when empty). */
export function p99(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] as number;
}

/** Largest of `values` (0 when empty), without spreading a huge array onto the stack. */
export function maxOf(values: readonly number[]): number {
  let max = 0;
  for (const v of values) if (v > max) max = v;
  return max;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Rounds for the JSON line. */
export const r1 = (x: number) => Math.round(x * 10) / 10;

/** The FAULTS.md counters in their standard order, all 0: a scenario sets the ones it measures. */
const ZERO_COUNTERS: Omit<ChaosCounters, 'scenario'> = {
  acked: 0,
  errorsSurfaced: 0,
  unhandled: 0,
  maxLatMs: 0,
  p99LatMs: 0,
  errWindowMs: 0,
  lostAcked: 0,
  ambiguous: 0,
  staleReads: 0,
  factoryCalls: 0,
  heapDeltaMB: 0,
  activeHandles: 0,
};

/** Prints the FAULTS.md counter line; counters a scenario does not measure print as 0. */
export function printCounters(counters: Partial<ChaosCounters> & { scenario: string }): void {
  const { scenario, ...measured } = counters;
  console.log(JSON.stringify({ scenario, ...ZERO_COUNTERS, ...measured }));
}

/**
 * Measures how late this process's event loop runs timers while a fault test runs. On the shared
 * 2-core CI box that lateness, not the store, can push an op's observed latency past its deadline,
 * so latency bounds allow for it (and the JSON line reports it).
 */
export function startLoopLag(): { stop(): number } {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  return {
    stop() {
      histogram.disable();
      return r1(Math.max(0, histogram.max / 1e6 - 5));
    },
  };
}

/** SIGKILLs `node`, restarts it (same port and dir) after `downMs`, then lets load run `afterMs`. */
export async function killAndRestart(node: RedisNode, downMs: number, afterMs: number): Promise<void> {
  await node.kill();
  await sleep(downMs);
  await node.restart();
  await sleep(afterMs);
}

/** Waits until `store` has deleted (or rewritten) the keys of every write that failed. */
export async function waitForRepair(store: RedisStore<unknown>, timeoutMs = 5_000): Promise<void> {
  await waitFor(() => store.stats().pendingInvalidations === 0, {
    timeoutMs,
    what: 'the keys of failed writes to be repaired',
  });
}

/** Reads a stored envelope straight from a node and returns its value (undefined when absent). */
export async function valueOn(node: RedisNode, redisKey: string): Promise<unknown> {
  const payload = await node.command('GET', redisKey);
  if (payload === '') return undefined;
  // The value follows the one-line envelope header.
  return JSON.parse(payload.slice(payload.indexOf('\n') + 1));
}
