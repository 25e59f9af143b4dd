/**
 * @dc/redis-adapter vs raw ioredis on the same real redis-server (started on a free port by
 * @dc/testkit; never 6379):
 *
 * - GET hit: `store.get` vs `client.get` of the same stored payload + `JSON.parse` of the value in
 *   it (the store's envelope is a one-line header before the value JSON, and the store parses
 *   that same JSON text: both sides move the same bytes and run the same `JSON.parse`),
 *   sequential, 50 concurrent, and 50 concurrent with auto-pipelining on both sides;
 * - getMany of 100 keys: `store.getMany` vs `client.mget` + the same parse of each;
 * - the sequential GET and the getMany again with ~1 KB values (BENCH_VALUE_1KB), where the
 *   codec's per-character checks weigh more than on the small record;
 * - cluster getMany of 1,000 keys: `store.getMany` (grouped by exact slot, one pipeline per node)
 *   vs one GET per key (keyv's behaviour, keyv#1559), both on a 6-node cluster.
 *
 * The raw clients use ioredis defaults; the store uses the clients it creates with its fail-fast
 * defaults (offline queue off, commandTimeout backstop). Rows marked "(diagnostic)" run the store
 * with `commandTimeout: undefined` on its connection, to show what ioredis' per-command timer of
 * that backstop costs; they are not the store's default. Candidates alternate round by round
 * (in reverse order every other round); the median ops/s of 11 rounds is reported with two
 * ratios to raw ioredis: of the medians, and the median of the 11 per-round ratios (each round's
 * pair ran back to back, so it cancels most of the load swings of a shared box).
 *
 * It imports the adapter by name, which resolves to its built `dist/`: build first.
 *
 * Run: pnpm --filter @dc/redis-adapter build && pnpm --filter @dc/bench run redis-adapter
 * Env: REDIS_ADAPTER_ONLY=<text> runs only the tables whose title contains it (e.g. `getMany of
 * 100`); REDIS_ADAPTER_ROUNDS sets the rounds per table (default 11).
 */

import { createEntry, jsonSerializer } from '@dc/core';
import { createEnvelopeCodec, createRedisStore, namespacedKey } from '@dc/redis-adapter';
import { startCluster, startRedis } from '@dc/testkit';
import { Cluster, Redis } from 'ioredis';
import { BENCH_VALUE, BENCH_VALUE_1KB, storeOverFakeClient } from './fake-redis-client';
import { formatOps } from './harness';

interface AsyncCandidate {
  readonly name: string;
  /** Runs `n` operations (or batches). */
  readonly run: (n: number) => Promise<unknown>;
}

const ROUNDS = Number(process.env.REDIS_ADAPTER_ROUNDS ?? 11);
/** Runs only the comparisons whose title contains this text (e.g. `getMany of 100`). */
const ONLY = process.env.REDIS_ADAPTER_ONLY;
const selected = (title: string) => ONLY === undefined || title.includes(ONLY);

/** What a raw client does with a stored payload: parse the value JSON that follows the header line. */
const parseValue = (payload: string | null): unknown => {
  const text = payload as string;
  return JSON.parse(text.slice(text.indexOf('\n') + 1));
};
const ROUND_MS = 300;

async function calibrate(candidate: AsyncCandidate): Promise<number> {
  let n = 16;
  for (;;) {
    const start = performance.now();
    await candidate.run(n);
    const elapsed = performance.now() - start;
    if (elapsed >= ROUND_MS / 4 || n >= 1 << 22)
      return Math.max(1, Math.round((n * ROUND_MS) / Math.max(elapsed, 0.01)));
    n *= 4;
  }
}

async function compareAsync(title: string, unit: string, candidates: AsyncCandidate[]): Promise<void> {
  if (!selected(title)) return;
  const sizes: number[] = [];
  for (const c of candidates) sizes.push(await calibrate(c));
  const samples = candidates.map(() => [] as number[]);
  for (let round = 0; round < ROUNDS; round++) {
    // Odd rounds run the candidates in reverse, so neither always inherits the other's garbage
    // collection debt or a warmed-up CPU.
    for (let k = 0; k < candidates.length; k++) {
      const i = round % 2 === 0 ? k : candidates.length - 1 - k;
      const n = sizes[i] as number;
      const start = performance.now();
      await (candidates[i] as AsyncCandidate).run(n);
      samples[i]?.push(n / ((performance.now() - start) / 1000));
    }
  }
  const median = (s: number[]) => [...s].sort((a, b) => a - b)[Math.floor(s.length / 2)] as number;
  const base = samples[0] as number[];
  console.log(`\n### ${title}\n`);
  console.log(`| candidate | ${unit}/s | ratio of medians | median of per-round ratios |`);
  console.log('|---|---:|---:|---:|');
  candidates.forEach((c, i) => {
    const own = samples[i] as number[];
    // Paired by round: the two candidates of one round saw about the same load on the box.
    const paired = median(own.map((v, r) => v / (base[r] as number)));
    console.log(
      `| ${c.name} | ${formatOps(median(own))} | ${(median(own) / median(base)).toFixed(2)}x | ${paired.toFixed(2)}x |`,
    );
  });
}

const concurrently = async (n: number, width: number, op: (i: number) => Promise<unknown>) => {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, n) }, async () => {
      while (next < n) await op(next++);
    }),
  );
};

async function standalone(): Promise<void> {
  const redis = await startRedis();
  const ns = 'bench';
  const KEYS = 1_000;
  const keys = Array.from({ length: KEYS }, (_, i) => `user:${i}`);
  const rawKeys = keys.map((k) => namespacedKey(ns, k));
  const value = BENCH_VALUE;
  const hardTimeoutMs = 1_000;
  const store = createRedisStore({ connection: redis.url, namespace: ns, softTimeoutMs: 500, hardTimeoutMs });
  const storePipelined = createRedisStore({
    connection: redis.url,
    namespace: ns,
    softTimeoutMs: 500,
    hardTimeoutMs,
    autoPipelining: true,
  });
  // Diagnostic: the store's clients carry a `commandTimeout` backstop (client-options.ts), which
  // costs ioredis a timer per command; this store opts out of it to show that share.
  const storeNoBackstop = createRedisStore({
    connection: { url: redis.url, commandTimeout: undefined },
    namespace: ns,
    softTimeoutMs: 500,
    hardTimeoutMs,
  });
  const storePipelinedNoBackstop = createRedisStore({
    connection: { url: redis.url, commandTimeout: undefined },
    namespace: ns,
    softTimeoutMs: 500,
    hardTimeoutMs,
    autoPipelining: true,
  });
  const raw = new Redis(redis.port, '127.0.0.1');
  const rawPipelined = new Redis({ port: redis.port, host: '127.0.0.1', enableAutoPipelining: true });
  await store.setMany(
    keys.map((k) => [k, createEntry(value, { now: Date.now(), ttlMs: 3_600_000 })] as const),
  );
  await storePipelined.get(keys[0] as string);
  await storePipelinedNoBackstop.get(keys[0] as string);
  await storeNoBackstop.get(keys[0] as string);
  if ((await store.get(keys[1] as string)) === undefined) throw new Error('bench setup: no hit');

  await compareAsync('GET hit, sequential', 'ops', sequentialGets(raw, rawKeys, store, keys));
  await compareAsync('GET hit, 50 concurrent', 'ops', [
    {
      name: 'ioredis get + JSON.parse of the value',
      run: (n) => concurrently(n, 50, async (i) => parseValue(await raw.get(rawKeys[i % KEYS] as string))),
    },
    {
      name: '@dc/redis-adapter get',
      run: (n) => concurrently(n, 50, (i) => store.get(keys[i % KEYS] as string)),
    },
  ]);
  await compareAsync('GET hit, 50 concurrent, auto-pipelining', 'ops', [
    {
      name: 'ioredis get + JSON.parse of the value',
      run: (n) =>
        concurrently(n, 50, async (i) => parseValue(await rawPipelined.get(rawKeys[i % KEYS] as string))),
    },
    {
      name: '@dc/redis-adapter get',
      run: (n) => concurrently(n, 50, (i) => storePipelined.get(keys[i % KEYS] as string)),
    },
    {
      name: '(diagnostic) store get, client without commandTimeout',
      run: (n) => concurrently(n, 50, (i) => storePipelinedNoBackstop.get(keys[i % KEYS] as string)),
    },
  ]);
  const batches = batchesOf100(keys);
  await compareAsync('getMany of 100 keys, sequential', 'batches', [
    ...batchedGets(raw, store, batches, ns),
    {
      name: '(diagnostic) store getMany, client without commandTimeout',
      run: async (n) => {
        for (let i = 0; i < n; i++) await storeNoBackstop.getMany(batches[i % 10] as string[]);
      },
    },
  ]);
  await largeValues(store, raw, ns);
  raw.disconnect();
  rawPipelined.disconnect();
  await Promise.all([
    store.close(),
    storePipelined.close(),
    storeNoBackstop.close(),
    storePipelinedNoBackstop.close(),
  ]);
  await redis.stop();
}

/** GET and getMany again, over keys holding ~1 KB values. */
async function largeValues(store: BenchStore, raw: Redis, ns: string): Promise<void> {
  const titles = ['GET hit, sequential, 1 KB value', 'getMany of 100 keys, 1 KB values'];
  if (!titles.some(selected)) return;
  const KEYS = 1_000;
  const keys = Array.from({ length: KEYS }, (_, i) => `order:${i}`);
  const rawKeys = keys.map((k) => namespacedKey(ns, k));
  await store.setMany(
    keys.map((k) => [k, createEntry(BENCH_VALUE_1KB, { now: Date.now(), ttlMs: 3_600_000 })] as const),
  );
  if ((await store.get(keys[1] as string)) === undefined) throw new Error('bench setup: no hit');
  await compareAsync(titles[0] as string, 'ops', sequentialGets(raw, rawKeys, store, keys));
  await compareAsync(titles[1] as string, 'batches', batchedGets(raw, store, batchesOf100(keys), ns));
}

type BenchStore = ReturnType<typeof createRedisStore>;

/** Raw `get` + parse of the value vs `store.get`, one read at a time (`rawKeys`: the namespaced `keys`). */
function sequentialGets(
  raw: Redis,
  rawKeys: readonly string[],
  store: BenchStore,
  keys: readonly string[],
): AsyncCandidate[] {
  return [
    {
      name: 'ioredis get + JSON.parse of the value',
      run: async (n) => {
        for (let i = 0; i < n; i++) parseValue(await raw.get(rawKeys[i % rawKeys.length] as string));
      },
    },
    {
      name: '@dc/redis-adapter get',
      run: async (n) => {
        for (let i = 0; i < n; i++) await store.get(keys[i % keys.length] as string);
      },
    },
  ];
}

/** Ten batches of 100 consecutive keys. */
const batchesOf100 = (keys: readonly string[]): string[][] =>
  Array.from({ length: 10 }, (_, b) => keys.slice(b * 100, b * 100 + 100));

/** Raw `mget` + parse of each value vs `store.getMany`, one batch at a time. */
function batchedGets(raw: Redis, store: BenchStore, batches: string[][], ns: string): AsyncCandidate[] {
  const rawBatches = batches.map((batch) => batch.map((k) => namespacedKey(ns, k)));
  return [
    {
      name: 'ioredis mget + JSON.parse of each value',
      run: async (n) => {
        for (let i = 0; i < n; i++)
          for (const v of await raw.mget(...(rawBatches[i % 10] as string[]))) parseValue(v);
      },
    },
    {
      name: '@dc/redis-adapter getMany',
      run: async (n) => {
        for (let i = 0; i < n; i++) await store.getMany(batches[i % 10] as string[]);
      },
    },
  ];
}

async function cluster(): Promise<void> {
  if (!selected('cluster getMany of 1,000 keys')) return;
  const handle = await startCluster();
  const ns = 'bench';
  const keys = Array.from({ length: 1_000 }, (_, i) => `item:${i}`);
  const rawKeys = keys.map((k) => namespacedKey(ns, k));
  const store = createRedisStore({
    cluster: { nodes: handle.startupNodes() },
    namespace: ns,
    softTimeoutMs: 2_000,
    hardTimeoutMs: 5_000,
  });
  const raw = new Cluster(handle.startupNodes());
  await store.setMany(
    keys.map((k, i) => [k, createEntry({ i }, { now: Date.now(), ttlMs: 3_600_000 })] as const),
  );
  // Warm every node connection on both sides.
  await store.getMany(keys);
  await Promise.all(rawKeys.map((k) => raw.get(k)));
  await compareAsync('cluster getMany of 1,000 keys', 'batches', [
    {
      name: 'ioredis cluster: one GET per key + JSON.parse',
      run: async (n) => {
        for (let i = 0; i < n; i++)
          for (const v of await Promise.all(rawKeys.map((k) => raw.get(k)))) parseValue(v);
      },
    },
    {
      name: '@dc/redis-adapter getMany',
      run: async (n) => {
        for (let i = 0; i < n; i++) await store.getMany(keys);
      },
    },
  ]);
  raw.disconnect();
  await store.close();
  await handle.stop();
}

/**
 * The store's own CPU cost per read, without a network: the same reads against an in-memory
 * fake client (its `get`/`mget` resolve at once), raw `get` + `JSON.parse` vs `store.get`.
 * CPU time (process.cpuUsage) per key, median of 9 interleaved rounds.
 */
async function overhead(): Promise<void> {
  if (!selected('store CPU per key read')) return;
  const { data, fake, store } = storeOverFakeClient();
  const keys = Array.from({ length: 1_000 }, (_, i) => `user:${i}`);
  const rawKeys = keys.map((k) => namespacedKey('bench', k));
  const value = BENCH_VALUE;
  // The store's own encoding of the entry.
  const envelope = createEnvelopeCodec(jsonSerializer).encode(
    createEntry(value, { now: Date.now(), ttlMs: 3_600_000 }),
  );
  for (const k of rawKeys) data.set(k, envelope);
  if ((await store.get(keys[0] as string)) === undefined) throw new Error('overhead setup: no hit');
  const batches = Array.from({ length: 10 }, (_, b) => keys.slice(b * 100, b * 100 + 100));
  const rawBatches = batches.map((batch) => batch.map((k) => namespacedKey('bench', k)));
  const N = 100_000;
  const candidates: Array<[string, () => Promise<void>]> = [
    [
      'fake get + JSON.parse of the value',
      async () => {
        for (let i = 0; i < N; i++) parseValue(await fake.get(rawKeys[i % 1000] as string));
      },
    ],
    [
      'store.get',
      async () => {
        for (let i = 0; i < N; i++) await store.get(keys[i % 1000] as string);
      },
    ],
    [
      'fake mget + JSON.parse of each value, 100 keys',
      async () => {
        for (let i = 0; i < N / 100; i++) for (const v of await fake.mget(rawBatches[i % 10])) parseValue(v);
      },
    ],
    [
      'store.getMany, 100 keys',
      async () => {
        for (let i = 0; i < N / 100; i++) await store.getMany(batches[i % 10] as string[]);
      },
    ],
  ];
  const samples = candidates.map(() => [] as number[]);
  for (let round = 0; round < 9; round++) {
    for (const [i, [, run]] of candidates.entries()) {
      const before = process.cpuUsage();
      await run();
      const used = process.cpuUsage(before);
      samples[i]?.push(((used.user + used.system) * 1000) / N);
    }
  }
  const median = (s: number[]) => [...s].sort((a, b) => a - b)[Math.floor(s.length / 2)] as number;
  console.log('\n### store CPU per key read, in-memory fake client (no network)\n');
  console.log('| candidate | CPU ns/key | store overhead ns/key |');
  console.log('|---|---:|---:|');
  candidates.forEach(([name], i) => {
    const own = median(samples[i] as number[]);
    const base = median(samples[i - (i % 2)] as number[]);
    console.log(`| ${name} | ${Math.round(own)} | ${i % 2 === 1 ? Math.round(own - base) : ''} |`);
  });
  await store.close();
}

await standalone();
await cluster();
await overhead();
