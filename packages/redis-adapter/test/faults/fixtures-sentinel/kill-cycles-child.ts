/**
 * FAULTS A6 child process (run with `node --expose-gc`): a fail-open store over a client it owns,
 * under a 20-worker getOrSet load, while the parent kills and restarts Redis. On
 * `{type:'measure'}` it pauses the load, waits until the store works again, collects garbage and
 * replies a snapshot (heap, active resources by type, the client's `error` listeners). On
 * `{type:'stop'}` it closes everything, replies the load's counters and the resources left, and
 * exits. argv: port. Nothing here may grow with the number of ops: the load keeps counters and a
 * fixed latency histogram only.
 */
import { createEntry } from '@dc/core';
import { Redis } from 'ioredis';
import { createRedisStore, failFastRedisOptions } from '../../../src/index';

const HARD = 250;
const port = Number(process.argv[2]);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run this child with --expose-gc');

const client = new Redis({ host: '127.0.0.1', port, ...failFastRedisOptions(HARD) });
// The store adds its own listener; this one is the application's (counted in the baseline too).
client.on('error', () => {});
const store = createRedisStore<number>({ client, namespace: 'a6', hardTimeoutMs: HARD });

let unhandled = 0;
process.on('unhandledRejection', () => unhandled++);
process.on('uncaughtExceptionMonitor', () => unhandled++);

/** Load counters; latencies in a 1 ms histogram (last bucket: >= 2 s). */
const counters = { ops: 0, rejected: 0, factoryCalls: 0, maxLatMs: 0 };
const histogram = new Uint32Array(2_001);
const timed = async <T>(fn: () => Promise<T>): Promise<T | undefined> => {
  const startedAt = performance.now();
  try {
    return await fn();
  } catch {
    counters.rejected++;
    return undefined;
  } finally {
    const latMs = performance.now() - startedAt;
    counters.ops++;
    if (latMs > counters.maxLatMs) counters.maxLatMs = latMs;
    (histogram[Math.min(histogram.length - 1, Math.floor(latMs))] as number)++;
  }
};
const p99 = (): number => {
  const total = histogram.reduce((a, b) => a + b, 0);
  let seen = 0;
  for (let ms = 0; ms < histogram.length; ms++) {
    seen += histogram[ms] as number;
    if (seen >= total * 0.99) return ms + 1;
  }
  return histogram.length;
};

let running = false;
let workers: Promise<void>[] = [];
let seed = 42;
const random = () => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
};
const startLoad = () => {
  running = true;
  workers = Array.from({ length: 20 }, async () => {
    for (let i = 0; running && i < 10_000_000; i++) {
      const key = `k${Math.floor(random() * 2_000)}`;
      const entry = await timed(() => store.get(key));
      if (entry === undefined) {
        counters.factoryCalls++;
        // The data source: about a millisecond per load.
        await new Promise((r) => setTimeout(r, 1));
        await timed(() => store.set(key, createEntry(i, { now: Date.now(), ttlMs: 60_000 })));
      }
      if (i % 16 === 0) await new Promise((r) => setImmediate(r));
    }
  });
};
const stopLoad = async () => {
  running = false;
  await Promise.all(workers);
};

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Active resources by type, without the IPC channel to the parent. */
const resources = (): Record<string, number> => {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
};

const quiesce = async () => {
  // Until Redis answers through the store again (fail-open: a miss until then, so probe a set).
  const deadline = Date.now() + 10_000;
  for (;;) {
    await store.set('probe', createEntry(1, { now: Date.now(), ttlMs: 60_000 }));
    if (client.status === 'ready' && (await store.get('probe')) !== undefined) break;
    if (Date.now() > deadline) throw new Error(`store did not recover (client ${client.status})`);
    await sleep(20);
  }
  // Lets the last ops' timers (the runner's tick, at most the hard timeout away) run out.
  await sleep(HARD + 100);
  for (let i = 0; i < 4; i++) {
    gc();
    await sleep(10);
  }
};

process.on('message', async (message: { type: string }) => {
  if (message.type === 'measure') {
    await stopLoad();
    await quiesce();
    process.send?.({
      type: 'snapshot',
      heapUsed: process.memoryUsage().heapUsed,
      resources: resources(),
      errorListeners: client.listenerCount('error'),
      readyListeners: client.listenerCount('ready'),
      breaker: store.stats().breaker,
    });
    startLoad();
  } else if (message.type === 'stop') {
    await stopLoad();
    const stats = store.stats();
    await store.close();
    client.disconnect();
    await sleep(50);
    process.send?.({
      type: 'final',
      counters: { ...counters, p99LatMs: p99(), unhandled },
      stats,
      resourcesAfterClose: resources(),
    });
    process.disconnect?.();
  }
});

await new Promise((resolve) => client.once('ready', resolve));
startLoad();
process.send?.({ type: 'ready' });
