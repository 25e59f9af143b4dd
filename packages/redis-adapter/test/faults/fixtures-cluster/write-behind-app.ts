/**
 * W3 app process: `@dc/strategies` write-behind over the Redis Streams queue, a Redis store as
 * the cache tier, and the versioned source of `versioned-source.ts` as the system of record.
 * argv: port, stream, mode, K, keyCount, holdMs.
 *
 * - `doomed`: writes K values (keyCount keys, K / keyCount rounds, 32 lanes, each key's rounds
 *   in order), reports `acked` once every `set` resolved, and keeps flushing. The flusher runs
 *   alongside the writers for its first EARLY_BATCHES batches, then waits for them to finish,
 *   so the kill leaves most of the queue to the restarted app however slow the box is. Each
 *   batch, once applied to the source, is reported (`applied`) and held `holdMs` before the
 *   flusher acks it, so the parent's SIGKILL lands with the batch applied but still pending.
 * - `recover`: the restarted app (same consumer name). Flushes until the queue is empty and
 *   reports `drained` with the time it took.
 */
import type { DataSource } from '@dc/core';
import { createWriteBehind } from '@dc/strategies';
import { Redis } from 'ioredis';
import { createRedisStore, createRedisStreamQueue, failFastRedisOptions } from '../../../src/index';
import { sourceKeys, VERSIONED_APPLY, type VersionedValue, versionOf } from './versioned-source';

const [portArg, stream, mode, kArg, keysArg, holdArg] = process.argv.slice(2) as [
  string,
  string,
  'doomed' | 'recover',
  string,
  string,
  string,
];
const port = Number(portArg);
const K = Number(kArg);
const keyCount = Number(keysArg);
const holdMs = Number(holdArg);
const LANES = 32;
const EARLY_BATCHES = 20;

let unhandled = 0;
process.on('unhandledRejection', () => unhandled++);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const send = (message: object) => process.send?.(message);

const sourceClient = new Redis({ host: '127.0.0.1', port, ...failFastRedisOptions(2_000) });
sourceClient.on('error', () => {});
const [src, ver, stats] = sourceKeys(stream);
let writersDone = false;
let releaseFlusher = () => {};
const allWritten = new Promise<void>((resolve) => {
  releaseFlusher = resolve;
});
let batches = 0;
const apply = async (entries: ReadonlyArray<readonly [string, VersionedValue]>) => {
  if (mode === 'doomed' && !writersDone && ++batches > EARLY_BATCHES) await allWritten;
  await sourceClient.eval(
    VERSIONED_APPLY,
    3,
    src,
    ver,
    stats,
    ...entries.flatMap(([key, value]) => [key, value.v, JSON.stringify(value)]),
  );
  if (mode === 'doomed') {
    send({ type: 'applied', count: entries.length });
    await sleep(holdMs);
  }
};
const dataSource: DataSource<VersionedValue> = {
  load: async (key) => {
    const payload = await sourceClient.hget(src, key);
    return payload === null ? undefined : (JSON.parse(payload) as VersionedValue);
  },
  save: (key, value) => apply([[key, value]]),
  saveMany: (entries) => apply(entries),
  delete: async () => {
    throw new Error('the W3 load never deletes');
  },
};

const queue = createRedisStreamQueue<VersionedValue>({
  connection: { host: '127.0.0.1', port },
  stream,
  maxLen: 2 * K,
});
const store = createRedisStore<VersionedValue>({
  connection: { host: '127.0.0.1', port },
  namespace: 'w3',
  softTimeoutMs: 500,
  hardTimeoutMs: 1_000,
});
const writeBehind = createWriteBehind<VersionedValue>({
  store,
  dataSource,
  queue,
  ttlMs: 10 * 60_000,
  batchSize: 100,
  flushIntervalMs: 50,
  maxQueueSize: 2 * K,
  // The restarted app takes over the dead one's pending entries once idle this long.
  claimIdleMs: 500,
  consumer: 'app',
  retryBaseDelayMs: 100,
  retryMaxDelayMs: 1_000,
});

if (mode === 'doomed') {
  const started = performance.now();
  let errors = 0;
  await Promise.all(
    Array.from({ length: LANES }, async (_, lane) => {
      for (let round = 0; round < K / keyCount; round++) {
        for (let k = lane; k < keyCount; k += LANES) {
          try {
            await writeBehind.set(`user:${k}`, { v: versionOf(round, k, keyCount) });
          } catch {
            errors++;
          }
        }
      }
    }),
  );
  send({ type: 'acked', count: K - errors, errors, unhandled, enqueueMs: performance.now() - started });
  writersDone = true;
  releaseFlusher();
  // The flusher keeps running until the parent's SIGKILL.
  setInterval(() => {}, 60_000);
} else {
  const started = performance.now();
  let remaining = -1;
  for (let round = 0; round < 5_000 && remaining !== 0; round++) {
    remaining = (await writeBehind.flush()).remaining;
    // Entries the dead app held are handed out again once idle for claimIdleMs.
    if (remaining > 0) await sleep(20);
  }
  const drainMs = performance.now() - started;
  const metrics = await writeBehind.metrics();
  send({ type: 'drained', drainMs, remaining, metrics, unhandled });
  await writeBehind.close();
  await Promise.all([store.close(), queue.close()]);
  sourceClient.disconnect();
  process.disconnect?.();
}
