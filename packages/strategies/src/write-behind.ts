import type { CacheStore, Clock, DataSource, Random, TimerHandle } from '@dc/core';
import {
  assertInteger,
  assertNonNegativeMs,
  assertOneOf,
  assertTtlMs,
  assertValidKey,
  ClosedError,
  createEntry,
  InvalidOptionError,
  isDcError,
  systemClock,
} from '@dc/core';
import type { StrategyEventListener } from './events';
import { backoffDelayMs } from './internal/backoff';
import type { CacheErrorPolicy } from './internal/cache-error';
import { CACHE_ERROR_POLICIES, toCacheError } from './internal/cache-error';
import { KeyMutex } from './internal/key-mutex';
import { notify } from './internal/notify';
import { assertClock, assertOptionalFunction, resolveSharedOptions, SCOPE } from './internal/options';
import { createMemoryWriteQueue } from './memory-write-queue';
import type { QueuedWrite, WriteQueue, WriteQueueStats, WriteRequest } from './write-queue';

/** What write-behind does when the queue is full. */
export type BackpressurePolicy = 'reject' | 'write-through';

/** Options for {@link createWriteBehind}. */
export interface WriteBehindOptions<V> {
  /** The cache tier written at once on every write. */
  store: CacheStore<V>;
  /**
   * The system of record the queue drains to. Needs `save` and `delete`; `saveMany` /
   * `deleteMany` are used for batches when present; `load` serves `get` on a miss.
   */
  dataSource: DataSource<V>;
  /** Time to live of a written entry (ms, finite, > 0). */
  ttlMs: number;
  /** Extra time (ms) after `ttlMs` an entry stays servable. @default 0 */
  graceMs?: number;
  /**
   * Where acknowledged writes wait for the flusher. The default in-memory queue loses its
   * entries if the process dies; pass the Redis Streams queue from `@dc/redis-adapter` for
   * writes that must survive a crash. A queue passed in is not closed by `close()`.
   * @default createMemoryWriteQueue({ maxSize: maxQueueSize, clock })
   */
  queue?: WriteQueue<V>;
  /**
   * Capacity of the default queue (entries), and the bound of the in-process maps that track
   * unflushed keys. @default 10000
   */
  maxQueueSize?: number;
  /** Most distinct keys written to the data source per batch (integer >= 1). @default 100 */
  batchSize?: number;
  /**
   * Longest time (ms, > 0) an acknowledged write waits before a flush starts; a batch flushes
   * sooner once `batchSize` writes are waiting. @default 1000
   */
  flushIntervalMs?: number;
  /**
   * When the queue is full: `'reject'` fails the write with `E_BACKPRESSURE` (nothing cached),
   * `'write-through'` writes it to the data source and the cache synchronously instead.
   * @default 'reject'
   */
  backpressure?: BackpressurePolicy;
  /** First retry delay after a failed flush (ms, > 0); doubles per attempt. @default 1000 */
  retryBaseDelayMs?: number;
  /** Longest retry delay (ms, > 0). @default 60000 */
  retryMaxDelayMs?: number;
  /** Each retry delay is stretched by up to this fraction, from `random` (>= 0). @default 0.5 */
  retryJitterRatio?: number;
  /**
   * Flush attempts before entries are given up (reported by `write-behind:failed` and the
   * `failed` metric, and invalidated in the cache). `Infinity` retries forever; the bounded
   * queue then applies backpressure. @default Infinity
   */
  maxAttempts?: number;
  /**
   * Entries claimed by a consumer and not acked for this long (ms) are taken over by this
   * flusher (a consumer that died). @default 30000
   */
  claimIdleMs?: number;
  /** Consumer name in the queue's consumer group. @default 'write-behind' */
  consumer?: string;
  /** How long `close()` keeps flushing before it gives up and reports what remains (ms). @default 5000 */
  closeTimeoutMs?: number;
  /**
   * When the cache write fails after the queue accepted the write, the key is invalidated
   * (the write still reaches the data source); then `'throw'` rejects with
   * `E_STORE_UNAVAILABLE` and `'ignore'` acknowledges. @default 'throw'
   */
  onCacheError?: CacheErrorPolicy;
  /** Time source for TTLs, flush timers and lag. @default systemClock */
  clock?: Clock;
  /** Uniform [0, 1) source for retry jitter. @default Math.random */
  random?: Random;
  /** Receives `write-behind:*` and `cache:error` events. */
  onEvent?: StrategyEventListener;
}

/** Defaults of the optional {@link WriteBehindOptions}. */
export const DEFAULT_WRITE_BEHIND_OPTIONS = Object.freeze({
  graceMs: 0,
  maxQueueSize: 10_000,
  batchSize: 100,
  flushIntervalMs: 1_000,
  backpressure: 'reject' as BackpressurePolicy,
  retryBaseDelayMs: 1_000,
  retryMaxDelayMs: 60_000,
  retryJitterRatio: 0.5,
  maxAttempts: Number.POSITIVE_INFINITY,
  claimIdleMs: 30_000,
  consumer: 'write-behind',
  closeTimeoutMs: 5_000,
  onCacheError: 'throw' as CacheErrorPolicy,
  clock: systemClock as Clock,
  random: Math.random as Random,
});

/** Fully resolved {@link WriteBehindOptions} (the queue stays optional). */
export type ResolvedWriteBehindOptions<V> = Readonly<
  Required<Omit<WriteBehindOptions<V>, 'onEvent' | 'queue'>> &
    Pick<WriteBehindOptions<V>, 'onEvent' | 'queue'>
>;

const BACKPRESSURE_POLICIES: readonly BackpressurePolicy[] = ['reject', 'write-through'];

/**
 * Merges `options` over {@link DEFAULT_WRITE_BEHIND_OPTIONS} and validates every field.
 * @throws InvalidOptionError (`E_INVALID_OPTION`) naming the bad option.
 */
export function resolveWriteBehindOptions<V>(options: WriteBehindOptions<V>): ResolvedWriteBehindOptions<V> {
  const resolved = resolveSharedOptions<ResolvedWriteBehindOptions<V>>(
    'write-behind',
    DEFAULT_WRITE_BEHIND_OPTIONS,
    options,
    ['save', 'delete'],
  );
  assertInteger(resolved.maxQueueSize, 'maxQueueSize', 1, SCOPE);
  assertInteger(resolved.batchSize, 'batchSize', 1, SCOPE);
  assertTtlMs(resolved.flushIntervalMs, 'flushIntervalMs', SCOPE);
  assertOneOf(resolved.backpressure, BACKPRESSURE_POLICIES, 'backpressure', SCOPE);
  assertTtlMs(resolved.retryBaseDelayMs, 'retryBaseDelayMs', SCOPE);
  assertTtlMs(resolved.retryMaxDelayMs, 'retryMaxDelayMs', SCOPE);
  assertNonNegativeMs(resolved.retryJitterRatio, 'retryJitterRatio', SCOPE);
  if (resolved.maxAttempts !== Number.POSITIVE_INFINITY) {
    assertInteger(resolved.maxAttempts, 'maxAttempts', 1, SCOPE);
  }
  assertNonNegativeMs(resolved.claimIdleMs, 'claimIdleMs', SCOPE);
  if (typeof resolved.consumer !== 'string' || resolved.consumer.length === 0) {
    throw new InvalidOptionError(
      `[dc:${SCOPE}] \`consumer\` must be a non-empty string, got ${String(resolved.consumer)}`,
    );
  }
  assertNonNegativeMs(resolved.closeTimeoutMs, 'closeTimeoutMs', SCOPE);
  assertOneOf(resolved.onCacheError, CACHE_ERROR_POLICIES, 'onCacheError', SCOPE);
  assertClock(resolved.clock);
  assertOptionalFunction(resolved.random, 'random');
  assertOptionalFunction(resolved.onEvent, 'onEvent');
  const queue = resolved.queue as Partial<WriteQueue<V>> | undefined;
  if (
    queue !== undefined &&
    (['enqueue', 'claim', 'ack', 'pending'] as const).some((method) => typeof queue[method] !== 'function')
  ) {
    throw new InvalidOptionError(
      `[dc:${SCOPE}] \`queue\` must implement WriteQueue (enqueue, claim, ack, pending)`,
    );
  }
  return Object.freeze(resolved);
}

/** Counters and gauges of a write-behind instance. Counters only grow. */
export interface WriteBehindMetrics {
  /** Unacked entries in the queue (gauge). */
  readonly depth: number;
  /** Entries claimed by a flusher and not yet acked (gauge). */
  readonly inFlight: number;
  /** Age of the oldest unacked entry (ms, gauge); 0 when the queue is empty. */
  readonly lagMs: number;
  /** Writes accepted into the queue by this instance. */
  readonly enqueued: number;
  /** Queue entries acknowledged after reaching the data source, coalesced ones included. */
  readonly flushed: number;
  /** Entries acknowledged without a data-source write because a newer version superseded them. */
  readonly coalesced: number;
  /** Keys written to or deleted from the data source by the flusher. */
  readonly sourceWrites: number;
  /** Flush attempts that failed and were scheduled again. */
  readonly retried: number;
  /** Entries given up after `maxAttempts`. */
  readonly failed: number;
  /** Writes rejected with `E_BACKPRESSURE`. */
  readonly rejected: number;
  /** Writes sent straight to the data source because the queue was full (`backpressure: 'write-through'`). */
  readonly fallbackWrites: number;
}

/** What {@link WriteBehind.flush} and {@link WriteBehind.close} report. */
export interface FlushReport {
  /** Queue entries acknowledged during this call. */
  readonly flushed: number;
  /** Unacked entries left in the queue afterwards. */
  readonly remaining: number;
  /** True when the call stopped at its deadline, or after a failed flush attempt, with entries left. */
  readonly incomplete: boolean;
}

/** Asynchronous writes: the cache now, the data source in batches. */
export interface WriteBehind<V> {
  /**
   * Queues `value` for the data source and writes it to the cache; resolves once both accepted.
   * @throws BackpressureError (`E_BACKPRESSURE`) when the queue is full and `backpressure` is
   * `'reject'` (nothing was cached or queued). InvalidKeyError before any I/O; ClosedError after `close()`.
   */
  set(key: string, value: V): Promise<void>;
  /** Queues a delete (a tombstone: older queued writes to the key are never applied after it) and removes the key from the cache. */
  delete(key: string): Promise<void>;
  /**
   * Reads this instance's newest unflushed write for `key`, then the cache, then the data
   * source's `load` (cached on the way back). Without `load`, a miss resolves `undefined`.
   */
  get(key: string): Promise<V | undefined>;
  /**
   * Flushes now until the queue is empty or an attempt fails.
   * @throws ClosedError after `close()`.
   */
  flush(): Promise<FlushReport>;
  /** Counters and queue gauges; after `close()` with the default queue the gauges read 0. */
  metrics(): Promise<WriteBehindMetrics>;
  /**
   * Stops accepting writes (later calls reject with `E_CLOSED`) and flushes, retrying with
   * backoff, until the queue is empty or `timeoutMs` passed; reports what remains. The default
   * memory queue is then closed (its remaining entries are lost); a queue passed in stays open
   * with its entries. Idempotent.
   */
  close(options?: { timeoutMs?: number }): Promise<FlushReport>;
}

type Outcome = 'idle' | 'progress' | 'failed';

/** Returned by `fromLatest` when this instance has no unflushed write for the key. */
const MISS: unique symbol = Symbol('miss');
/** Returned by `raceTimer` when the deadline won. */
const TIMEOUT: unique symbol = Symbol('timeout');

/**
 * Write-behind (write-back): acknowledge once the cache and the queue accepted a write, flush
 * to the data source in the background. The flusher claims up to `batchSize` distinct keys,
 * coalesces them to the newest version per key (a delete is a version too, so an older write
 * never resurrects a deleted key), writes them with `saveMany`/`deleteMany` when available,
 * acks by version, and retries failures with exponential backoff and jitter.
 */
export function createWriteBehind<V>(options: WriteBehindOptions<V>): WriteBehind<V> {
  const resolved = resolveWriteBehindOptions(options);
  const {
    store,
    dataSource,
    ttlMs,
    graceMs,
    maxQueueSize,
    batchSize,
    flushIntervalMs,
    backpressure,
    maxAttempts,
    claimIdleMs,
    consumer,
    closeTimeoutMs,
    onCacheError,
    clock,
    random,
    onEvent,
  } = resolved;
  const ownsQueue = resolved.queue === undefined;
  const queue: WriteQueue<V> = resolved.queue ?? createMemoryWriteQueue<V>({ maxSize: maxQueueSize, clock });
  const backoff = {
    baseDelayMs: resolved.retryBaseDelayMs,
    maxDelayMs: resolved.retryMaxDelayMs,
    jitterRatio: resolved.retryJitterRatio,
    minDelayMs: flushIntervalMs,
  };

  // Producers (set/delete/get-populate) are ordered per key by `writeLocks`; data-source writes
  // (flusher batches and write-through fallbacks) by `sourceLocks`. The flusher never takes a
  // write lock, so a slow data source never delays an acknowledgement.
  const writeLocks = new KeyMutex();
  const sourceLocks = new KeyMutex();
  // Newest unflushed write per key from this instance, for read-your-writes (bounded, FIFO).
  const latest = new Map<string, QueuedWrite<V>>();
  // Highest version per key already applied to the data source (or superseded by a fallback
  // write): older entries reclaimed later are acked without being applied (bounded, FIFO).
  const applied = new Map<string, number>();
  // Claimed, unacked entries: by version (dedupe) and grouped by key (a key's entries are
  // always acked or given up together).
  const inHand = new Map<number, QueuedWrite<V>>();
  const inHandByKey = new Map<string, QueuedWrite<V>[]>();
  const counters = {
    enqueued: 0,
    flushed: 0,
    coalesced: 0,
    sourceWrites: 0,
    retried: 0,
    failed: 0,
    rejected: 0,
    fallbackWrites: 0,
  };
  let highestVersion = 0;
  let sinceFlush = 0;
  let attempt = 0;
  let timer: TimerHandle | undefined;
  let timerDueAt = Number.POSITIVE_INFINITY;
  let running: Promise<Outcome> | undefined;
  let closed = false;
  let closing: Promise<FlushReport> | undefined;

  const remember = <T>(map: Map<string, T>, key: string, value: T): void => {
    map.delete(key);
    map.set(key, value);
    if (map.size > maxQueueSize) map.delete(map.keys().next().value as string);
  };
  const bumpApplied = (key: string, version: number): void => {
    const current = applied.get(key);
    if (current === undefined || version > current) remember(applied, key, version);
  };
  const forgetLatest = (key: string, version: number): void => {
    const pending = latest.get(key);
    if (pending !== undefined && pending.version <= version) latest.delete(key);
  };

  const cacheFailed = async (operation: 'set' | 'delete', key: string, error: unknown): Promise<void> => {
    if (operation === 'set') await store.delete(key).catch(() => undefined);
    notify(onEvent, { type: 'cache:error', operation, key, error });
    if (onCacheError === 'throw') throw toCacheError(SCOPE, operation, key, error);
  };

  const writeCache = async (write: WriteRequest<V>): Promise<void> => {
    try {
      if (write.op === 'set') {
        await store.set(write.key, createEntry(write.value, { now: clock.now(), ttlMs, graceMs }));
      } else {
        await store.delete(write.key);
      }
    } catch (error) {
      await cacheFailed(write.op, write.key, error);
    }
  };

  // ---- scheduling -------------------------------------------------------------------------

  const schedule = (delayMs: number): void => {
    if (closed) return;
    const dueAt = clock.now() + delayMs;
    if (timer !== undefined && timerDueAt <= dueAt) return;
    timer?.cancel();
    timerDueAt = dueAt;
    timer = clock.setTimer(onTimer, delayMs);
  };

  const cancelTimer = (): void => {
    timer?.cancel();
    timer = undefined;
    timerDueAt = Number.POSITIVE_INFINITY;
  };

  function onTimer(): void {
    timer = undefined;
    timerDueAt = Number.POSITIVE_INFINITY;
    void drive();
  }

  /** One background cycle, then the next one scheduled from its outcome. */
  async function drive(): Promise<void> {
    if (running !== undefined) {
      await running;
      return;
    }
    const outcome = await runCycle();
    if (closed) return;
    if (outcome === 'failed') {
      schedule(retryDelay());
      return;
    }
    // Entries may have arrived while the cycle ran (their enqueue did not schedule), or be held
    // by another consumer (reclaimed after `claimIdleMs`): keep a timer while anything is left.
    const more = await queue.pending().then(
      (stats) => stats.depth > inHand.size,
      () => true,
    );
    if (more) schedule(outcome === 'progress' ? 0 : flushIntervalMs);
  }

  const retryDelay = (): number => backoffDelayMs(attempt, backoff, random);

  const afterEnqueue = (): void => {
    sinceFlush += 1;
    // While retrying, the backoff timer decides; an enqueue must not pull the next attempt forward.
    if (attempt > 0 || running !== undefined) return;
    schedule(sinceFlush >= batchSize ? 0 : flushIntervalMs);
  };

  // ---- the flusher --------------------------------------------------------------------------

  const runCycle = (): Promise<Outcome> => {
    if (running !== undefined) return running;
    const cycle = flushOnce().finally(() => {
      running = undefined;
    });
    running = cycle;
    return cycle;
  };

  const holdEntry = (entry: QueuedWrite<V>): boolean => {
    if (inHand.has(entry.version)) return false;
    inHand.set(entry.version, entry);
    const group = inHandByKey.get(entry.key);
    if (group === undefined) inHandByKey.set(entry.key, [entry]);
    else group.push(entry);
    return true;
  };
  const releaseKey = (key: string): QueuedWrite<V>[] => {
    const group = inHandByKey.get(key) ?? [];
    inHandByKey.delete(key);
    for (const entry of group) inHand.delete(entry.version);
    return group;
  };

  async function fill(): Promise<void> {
    // Claim until the batch holds `batchSize` distinct keys: a hot key's many versions cost one
    // slot, which is what makes coalescing effective during an outage.
    for (let rounds = 0; rounds <= maxQueueSize; rounds++) {
      const want = batchSize - inHandByKey.size;
      if (want <= 0) return;
      const claimed = await queue.claim(consumer, { count: want, minIdleMs: claimIdleMs });
      let added = 0;
      for (const entry of claimed) if (holdEntry(entry)) added += 1;
      if (claimed.length < want || added === 0) return;
    }
  }

  async function flushOnce(): Promise<Outcome> {
    sinceFlush = 0;
    let lastError: unknown;
    try {
      await fill();
    } catch (error) {
      lastError = error;
    }
    if (inHand.size === 0) {
      if (lastError !== undefined) return failed(lastError, []);
      attempt = 0;
      return 'idle';
    }

    const newest = new Map<string, QueuedWrite<V>>();
    for (const [key, group] of inHandByKey) {
      let top = group[0] as QueuedWrite<V>;
      for (const entry of group) if (entry.version > top.version) top = entry;
      newest.set(key, top);
    }
    const failedKeys = new Set<string>();
    const doneKeys = new Map<string, boolean>();
    try {
      await sourceLocks.runMany(newest.keys(), async () => {
        const saves: Array<readonly [string, V]> = [];
        const deletes: string[] = [];
        for (const [key, entry] of newest) {
          const done = applied.get(key);
          if (done !== undefined && entry.version <= done) {
            doneKeys.set(key, false);
          } else if (entry.op === 'set') {
            saves.push([key, entry.value]);
          } else {
            deletes.push(key);
          }
        }
        const outcomes = await Promise.all([applySaves(saves), applyDeletes(deletes)]);
        for (const outcome of outcomes) {
          for (const [key, error] of outcome) {
            if (error === undefined) doneKeys.set(key, true);
            else {
              failedKeys.add(key);
              lastError = error;
            }
          }
        }
      });
    } catch (error) {
      lastError = error;
    }

    let entriesDone = 0;
    let writes = 0;
    const ackVersions: number[] = [];
    for (const [key, wrote] of doneKeys) {
      const top = newest.get(key) as QueuedWrite<V>;
      if (wrote) writes += 1;
      bumpApplied(key, top.version);
      forgetLatest(key, top.version);
      for (const entry of inHandByKey.get(key) ?? []) {
        ackVersions.push(entry.version);
        if (entry.version !== top.version || !wrote) counters.coalesced += 1;
      }
    }
    if (ackVersions.length > 0) {
      try {
        await queue.ack(ackVersions);
        for (const key of doneKeys.keys()) releaseKey(key);
        entriesDone = ackVersions.length;
      } catch (error) {
        // Not acked: the entries stay in hand and are acked (without a second write, since
        // `applied` already covers them) on the next cycle.
        lastError = error;
      }
    }
    counters.flushed += entriesDone;
    counters.sourceWrites += writes;
    if (entriesDone > 0)
      notify(onEvent, { type: 'write-behind:flushed', entries: entriesDone, sourceWrites: writes });
    if (lastError !== undefined || failedKeys.size > 0) return failed(lastError, [...failedKeys]);
    attempt = 0;
    return 'progress';
  }

  async function applySaves(saves: Array<readonly [string, V]>): Promise<Array<[string, unknown]>> {
    if (saves.length === 0) return [];
    if (dataSource.saveMany !== undefined && saves.length > 1) {
      try {
        await dataSource.saveMany(saves);
        return saves.map(([key]) => [key, undefined]);
      } catch (error) {
        return saves.map(([key]) => [key, error ?? new Error('saveMany failed')]);
      }
    }
    const settled = await Promise.allSettled(saves.map(([key, value]) => dataSource.save(key, value)));
    return settled.map((result, i) => [
      (saves[i] as readonly [string, V])[0],
      result.status === 'fulfilled' ? undefined : (result.reason ?? new Error('save failed')),
    ]);
  }

  async function applyDeletes(keys: string[]): Promise<Array<[string, unknown]>> {
    if (keys.length === 0) return [];
    if (dataSource.deleteMany !== undefined && keys.length > 1) {
      try {
        await dataSource.deleteMany(keys);
        return keys.map((key) => [key, undefined]);
      } catch (error) {
        return keys.map((key) => [key, error ?? new Error('deleteMany failed')]);
      }
    }
    const settled = await Promise.allSettled(keys.map((key) => dataSource.delete(key)));
    return settled.map((result, i) => [
      keys[i] as string,
      result.status === 'fulfilled' ? undefined : (result.reason ?? new Error('delete failed')),
    ]);
  }

  async function failed(error: unknown, keys: string[]): Promise<Outcome> {
    attempt += 1;
    if (attempt < maxAttempts) {
      counters.retried += 1;
      notify(onEvent, { type: 'write-behind:retry', attempt, delayMs: retryDelay(), error });
      return 'failed';
    }
    attempt = 0;
    const failedKeys = new Set(keys);
    const givenUp = keys.flatMap((key) => inHandByKey.get(key) ?? []);
    if (givenUp.length === 0) return 'failed';
    try {
      await queue.ack(givenUp.map((entry) => entry.version));
    } catch {
      // The queue will hand them out again after `claimIdleMs`; they are still reported.
    }
    for (const key of failedKeys) {
      for (const entry of releaseKey(key)) forgetLatest(key, entry.version);
    }
    counters.failed += givenUp.length;
    // The cache may hold a value the data source never got; drop it so reads go to the source.
    await Promise.all([...failedKeys].map((key) => store.delete(key).catch(() => undefined)));
    notify(onEvent, { type: 'write-behind:failed', entries: givenUp, error });
    return 'progress';
  }

  // ---- writes -------------------------------------------------------------------------------

  const write = (request: WriteRequest<V>): Promise<void> => {
    try {
      if (closed) throw new ClosedError(`[dc:${SCOPE}] write-behind is closed`);
      assertValidKey(request.key, SCOPE);
    } catch (error) {
      return Promise.reject(error);
    }
    return writeLocks.run(request.key, async () => {
      let queued: QueuedWrite<V>;
      try {
        queued = await queue.enqueue(request);
      } catch (error) {
        if (!isDcError(error, 'E_BACKPRESSURE')) throw error;
        return overflow(request, error);
      }
      if (queued.version > highestVersion) highestVersion = queued.version;
      counters.enqueued += 1;
      remember(latest, request.key, queued);
      afterEnqueue();
      await writeCache(request);
    });
  };

  async function overflow(request: WriteRequest<V>, error: unknown): Promise<void> {
    notify(onEvent, { type: 'write-behind:backpressure', key: request.key, action: backpressure });
    if (backpressure === 'reject') {
      counters.rejected += 1;
      throw error;
    }
    counters.fallbackWrites += 1;
    await sourceLocks.run(request.key, async () => {
      if (request.op === 'set') await dataSource.save(request.key, request.value);
      else await dataSource.delete(request.key);
      // Every entry this instance queued for the key is older than this write: never apply them.
      bumpApplied(request.key, highestVersion);
      latest.delete(request.key);
    });
    await writeCache(request);
  }

  return {
    set: (key, value) => write({ key, op: 'set', value }),
    delete: (key) => write({ key, op: 'delete' }),

    async get(key) {
      assertValidKey(key, SCOPE);
      const served = fromLatest(key);
      if (served !== MISS) return served;
      try {
        const entry = await store.get(key);
        if (entry !== undefined && clock.now() < entry.expiresAt) return entry.value;
      } catch (error) {
        notify(onEvent, { type: 'cache:error', operation: 'get', key, error });
      }
      if (dataSource.load === undefined) return undefined;
      const load = dataSource.load.bind(dataSource);
      return writeLocks.run(key, async () => {
        const pending = fromLatest(key);
        if (pending !== MISS) return pending;
        const value = await load(key);
        if (value !== undefined && fromLatest(key) === MISS) {
          await store
            .set(key, createEntry(value, { now: clock.now(), ttlMs, graceMs }))
            .catch((error: unknown) =>
              notify(onEvent, { type: 'cache:error', operation: 'set', key, error }),
            );
        }
        return value;
      });
    },

    async flush() {
      if (closed) throw new ClosedError(`[dc:${SCOPE}] write-behind is closed; close() already flushed`);
      const before = counters.flushed;
      cancelTimer();
      if (running !== undefined) await running;
      let outcome: Outcome = 'progress';
      for (let guard = 0; guard <= maxQueueSize && outcome === 'progress'; guard++)
        outcome = await runCycle();
      const remaining = await remainingEntries();
      if (outcome === 'failed') schedule(retryDelay());
      else if (remaining > 0) schedule(flushIntervalMs);
      return { flushed: counters.flushed - before, remaining, incomplete: remaining > 0 };
    },

    async metrics() {
      let stats: WriteQueueStats;
      try {
        stats = await queue.pending();
      } catch (error) {
        // After close() the default queue is gone (close reported what it lost): gauges read 0.
        if (!(closed && ownsQueue)) throw error;
        stats = { depth: 0, inFlight: 0, oldestEnqueuedAt: undefined };
      }
      const lagMs =
        stats.oldestEnqueuedAt === undefined ? 0 : Math.max(0, clock.now() - stats.oldestEnqueuedAt);
      return { depth: stats.depth, inFlight: stats.inFlight, lagMs, ...counters };
    },

    close(closeOptions) {
      if (closing !== undefined) return closing;
      const timeoutMs = closeOptions?.timeoutMs ?? closeTimeoutMs;
      try {
        assertNonNegativeMs(timeoutMs, 'timeoutMs', SCOPE);
      } catch (error) {
        return Promise.reject(error);
      }
      closed = true;
      closing = drain(timeoutMs);
      return closing;
    },
  };

  function fromLatest(key: string): V | undefined | typeof MISS {
    const pending = latest.get(key);
    if (pending === undefined) return MISS;
    // Another consumer may have flushed it; past the TTL the cache copy would be gone too.
    if (clock.now() - pending.enqueuedAt >= ttlMs) {
      latest.delete(key);
      return MISS;
    }
    return pending.op === 'set' ? pending.value : undefined;
  }

  async function remainingEntries(): Promise<number> {
    try {
      return (await queue.pending()).depth;
    } catch {
      return inHand.size;
    }
  }

  async function drain(timeoutMs: number): Promise<FlushReport> {
    const before = counters.flushed;
    const deadline = clock.now() + timeoutMs;
    cancelTimer();
    // Writes already inside their key's chain finish enqueueing first (bounded by the deadline).
    await raceTimer(writeLocks.settled(), timeoutMs);
    cancelTimer();
    let timedOut = false;
    for (let guard = 0; guard <= maxQueueSize * 4; guard++) {
      const left = deadline - clock.now();
      if (left <= 0) {
        timedOut = true;
        break;
      }
      const outcome = await raceTimer(runCycle(), left);
      if (outcome === TIMEOUT) {
        timedOut = true;
        break;
      }
      if (outcome === 'idle') break;
      if (outcome === 'failed') {
        const wait = Math.min(retryDelay(), deadline - clock.now());
        if (wait > 0) await raceTimer(new Promise<never>(() => {}), wait);
      }
    }
    const remaining = await remainingEntries();
    if (ownsQueue) await queue.close();
    return { flushed: counters.flushed - before, remaining, incomplete: timedOut || remaining > 0 };
  }

  function raceTimer<T>(promise: Promise<T>, delayMs: number): Promise<T | typeof TIMEOUT> {
    let handle: TimerHandle | undefined;
    const timeout = new Promise<typeof TIMEOUT>((resolve) => {
      handle = clock.setTimer(() => resolve(TIMEOUT), delayMs);
    });
    return Promise.race([promise, timeout]).finally(() => handle?.cancel());
  }
}
