/**
 * Write-through load for the Sentinel fault scenarios (FAULTS S1, S2): every write goes to a new
 * key with a known value, so afterwards each acknowledged write can be looked up on whichever
 * node is primary by then.
 *
 * The stores are fail-closed: a write counts as acknowledged only when Redis took it (fail-open
 * would resolve skipped writes too, and nothing could be said about loss). The store has no retry
 * budget of its own (it is fail-fast by design: no offline queue, `maxRetriesPerRequest: 0`), so
 * each write is retried here with a backoff for up to `retryBudgetMs`, which is what a
 * write-through caller that must not drop a write does with a typed `E_STORE_UNAVAILABLE`.
 */
import { createEntry, isDcError } from '@dc/core';
import type { RedisStore, RedisStoreEvent } from '../../../src/index';

/** How Redis acknowledged one write. */
export type AckKind =
  /** `durability: 'replicated'`: the write resolved, so WAIT reported >= 1 replica. */
  | 'wait-confirmed'
  /** `durability: 'none'`: the primary acknowledged, no WAIT asked. */
  | 'primary'
  /** `durability: 'replicated'`, but WAIT reported 0 replicas (`store:replication` for its key). */
  | 'wait-shortfall';

export interface AckedWrite {
  readonly key: string;
  readonly value: number;
  readonly kind: AckKind;
  /** When the successful attempt started and when it resolved (performance.now()). */
  readonly attemptAt: number;
  readonly ackedAt: number;
}

export interface WriteLoadResult {
  readonly acked: AckedWrite[];
  /** Writes still failing when their retry budget ran out: the errors a caller would see. */
  readonly failed: Array<{ key: string; value: number; error: string }>;
  /** Attempts that failed and were retried. */
  readonly retries: number;
  /** Rejections that were not the typed E_STORE_UNAVAILABLE (must be 0 whatever happens). */
  readonly untyped: number;
  /** Failed attempts by cause (READONLY, connection, timeout, breaker, other). */
  readonly attemptErrors: Record<string, number>;
  /** The first few messages classified as `other`, to tell what they were. */
  readonly otherErrors: string[];
  /** Duration of each write from its first attempt to its ack or give-up, incl. retries (ms). */
  readonly writeLatencies: number[];
  /** Duration of each single attempt (ms), for the store's own bound. */
  readonly attemptLatencies: number[];
}

export interface WriteLoadOptions {
  /** `durability: 'none'`, `failMode: 'closed'`. */
  plain: RedisStore<number>;
  /** `durability: 'replicated'`, `failMode: 'closed'`; its events must reach {@link shortfallListener}. */
  durable: RedisStore<number>;
  /** Keys that got a `store:replication` event (fill it with {@link shortfallListener}). */
  shortfalls: Set<string>;
  workers: number;
  /** The first `durableWorkers` workers write through `durable`. */
  durableWorkers: number;
  retryBudgetMs: number;
  keyPrefix: string;
}

/** An `onEvent` that records the keys whose WAIT reported fewer replicas than asked. */
export function shortfallListener(into: Set<string>): (event: RedisStoreEvent) => void {
  return (event) => {
    if (event.type === 'store:replication') into.add(event.key);
  };
}

function classify(error: unknown): string {
  const message = (error as Error)?.message ?? String(error);
  if (message.includes('READONLY')) return 'readonly';
  if (message.includes('replicas acknowledged')) return 'waitShortfall';
  if (message.includes('circuit breaker')) return 'breakerOpen';
  if (message.includes('hardTimeoutMs')) return 'hardTimeout';
  // `max retries per request`: the command was in flight when the connection dropped.
  if (
    /writeable|Connection is closed|ECONNREFUSED|ECONNRESET|connect|max retries per request/i.test(message)
  ) {
    return 'connection';
  }
  return 'other';
}

const BACKOFF_MS = [25, 50, 100, 200, 250] as const;

/** Starts `workers` write loops; `stop()` lets each finish its current write (retries included). */
export function startWriteThroughLoad(options: WriteLoadOptions): {
  result: WriteLoadResult;
  stop(): Promise<WriteLoadResult>;
} {
  const { plain, durable, shortfalls, workers, durableWorkers, retryBudgetMs, keyPrefix } = options;
  const result = {
    acked: [] as AckedWrite[],
    failed: [] as Array<{ key: string; value: number; error: string }>,
    retries: 0,
    untyped: 0,
    attemptErrors: {} as Record<string, number>,
    otherErrors: [] as string[],
    writeLatencies: [] as number[],
    attemptLatencies: [] as number[],
  };
  let running = true;

  const writeOne = async (store: RedisStore<number>, isDurable: boolean, key: string, value: number) => {
    const firstAt = performance.now();
    for (let attempt = 0; ; attempt++) {
      const attemptAt = performance.now();
      try {
        await store.set(key, createEntry(value, { now: Date.now(), ttlMs: 600_000 }));
        const ackedAt = performance.now();
        result.attemptLatencies.push(ackedAt - attemptAt);
        result.writeLatencies.push(ackedAt - firstAt);
        result.acked.push({
          key,
          value,
          kind: isDurable ? 'wait-confirmed' : 'primary',
          attemptAt,
          ackedAt,
        });
        return;
      } catch (error) {
        const failedAt = performance.now();
        result.attemptLatencies.push(failedAt - attemptAt);
        if (!isDcError(error, 'E_STORE_UNAVAILABLE')) result.untyped++;
        const cause = classify(error);
        result.attemptErrors[cause] = (result.attemptErrors[cause] ?? 0) + 1;
        if (cause === 'other' && result.otherErrors.length < 5)
          result.otherErrors.push((error as Error).message);
        // Fail-closed durability rejects a write the primary took when WAIT saw no replica; the
        // store reports it per key. It is on the primary, so it is acknowledged (without WAIT),
        // and retrying cannot add a replica that is not there.
        if (isDurable && shortfalls.has(key)) {
          result.writeLatencies.push(failedAt - firstAt);
          result.acked.push({ key, value, kind: 'wait-shortfall', attemptAt, ackedAt: failedAt });
          return;
        }
        const backoff = BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)] as number;
        if (failedAt + backoff - firstAt > retryBudgetMs) {
          result.writeLatencies.push(failedAt - firstAt);
          result.failed.push({ key, value, error: (error as Error).message });
          return;
        }
        result.retries++;
        await new Promise((r) => setTimeout(r, backoff));
      }
    }
  };

  const worker = async (w: number) => {
    const isDurable = w < durableWorkers;
    const store = isDurable ? durable : plain;
    // Bounded even if stop() were never called.
    for (let i = 0; running && i < 5_000_000; i++) {
      await writeOne(store, isDurable, `${keyPrefix}:w${w}:${i}`, i);
      // Lets timers and socket events run even when every write fails at once.
      if (i % 8 === 0) await new Promise((r) => setImmediate(r));
    }
  };
  const all = Array.from({ length: workers }, (_, w) => worker(w));
  return {
    result,
    async stop() {
      running = false;
      await Promise.all(all);
      return result;
    },
  };
}

/**
 * Reads every acknowledged write back through `reader` (a fail-closed store on the node to
 * check) in batches and returns the writes whose value is missing or different.
 */
export async function findLostWrites(
  reader: RedisStore<number>,
  writes: readonly AckedWrite[],
  batch = 500,
): Promise<AckedWrite[]> {
  const lost: AckedWrite[] = [];
  for (let i = 0; i < writes.length; i += batch) {
    const slice = writes.slice(i, i + batch);
    const entries = await reader.getMany(slice.map((w) => w.key));
    slice.forEach((w, j) => {
      if (entries[j]?.value !== w.value) lost.push(w);
    });
  }
  return lost;
}

/**
 * First acknowledgement (any kind: a WAIT shortfall is still a write the primary took) of an
 * attempt that started at or after `t` (performance.now()), or -1.
 */
export function firstAckStartedAfter(writes: readonly AckedWrite[], t: number): number {
  let first = Number.POSITIVE_INFINITY;
  for (const w of writes) if (w.attemptAt >= t && w.ackedAt < first) first = w.ackedAt;
  return first === Number.POSITIVE_INFINITY ? -1 : first;
}

/** Longest stretch without any acknowledgement between `from` and `to` (ms). */
export function longestAckGap(writes: readonly AckedWrite[], from: number, to: number): number {
  const times = writes
    .map((w) => w.ackedAt)
    .filter((t) => t >= from && t <= to)
    .sort((a, b) => a - b);
  let previous = from;
  let gap = 0;
  for (const t of times) {
    gap = Math.max(gap, t - previous);
    previous = t;
  }
  return Math.max(gap, to - previous);
}
