/**
 * Profiling driver (not a benchmark): runs one read path for 4 s against a real redis-server, for
 * `node --cpu-prof`. Modes: `seq`, `pipelined` (50 concurrent, auto-pipelining), `many` (getMany of
 * 100) for the store; `rawseq`, `rawpipelined`, `rawmany`, `rawmanykeep` for raw ioredis;
 * `fakeget`, `fakemany`: the store against an in-memory fake client (no network, no redis-server),
 * printing CPU ns per key, so the store's own cost shows without ioredis in the profile;
 * `fakepaired`: the store's CPU overhead per key over the raw fake read + `JSON.parse`, the two
 * interleaved for 15 rounds (median of the per-round differences: steadier than two separate runs).
 * Env: RAWCT=1 gives the raw client the store's commandTimeout backstop; NOCT=1 takes it off the
 * store's client (both to measure what that per-command timer costs).
 * Run (after building the adapter): cd bench && node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx src/redis-adapter-profile.ts many
 */
import { createEntry } from '@dc/core';
import { createRedisStore, namespacedKey } from '@dc/redis-adapter';
import { startRedis } from '@dc/testkit';
import { Redis } from 'ioredis';
import { BENCH_VALUE, storeOverFakeClient } from './fake-redis-client';

const mode = process.argv[2] ?? 'pipelined';
/** Raw modes parse the value JSON that follows the envelope's header line, as the store does. */
const parseValue = (payload: string | null): unknown => {
  const text = payload as string;
  return JSON.parse(text.slice(text.indexOf('\n') + 1));
};
if (mode === 'fakeget' || mode === 'fakemany') {
  await fakeClientLoop(mode);
  process.exit(0);
}
if (mode === 'fakepaired') {
  await fakePaired();
  process.exit(0);
}
const redis = await startRedis();
const keys = Array.from({ length: 1_000 }, (_, i) => `user:${i}`);
const value = BENCH_VALUE;
const store = createRedisStore({
  // NOCT=1: without the commandTimeout backstop the store's clients set (one timer per command).
  connection: process.env.NOCT ? { url: redis.url, commandTimeout: undefined } : redis.url,
  namespace: 'bench',
  softTimeoutMs: 500,
  hardTimeoutMs: 1_000,
  autoPipelining: mode === 'pipelined',
});
await store.setMany(keys.map((k) => [k, createEntry(value, { now: Date.now(), ttlMs: 3_600_000 })] as const));
const raw = new Redis({
  port: redis.port,
  host: '127.0.0.1',
  enableAutoPipelining: mode === 'rawpipelined',
  ...(process.env.RAWCT ? { commandTimeout: 2000 } : {}),
});
const rawBatches = Array.from({ length: 10 }, (_, b) =>
  keys.slice(b * 100, b * 100 + 100).map((k) => namespacedKey('bench', k)),
);
const batches = Array.from({ length: 10 }, (_, b) => keys.slice(b * 100, b * 100 + 100));
const end = performance.now() + 4_000;
let ops = 0;
while (performance.now() < end) {
  if (mode === 'rawmany') {
    for (let i = 0; i < 100; i++)
      for (const v of await raw.mget(...(rawBatches[i % 10] as string[]))) parseValue(v);
    ops += 100;
  } else if (mode === 'rawseq') {
    for (let i = 0; i < 1000; i++)
      parseValue(await raw.get(namespacedKey('bench', keys[i % 1000] as string)));
    ops += 1000;
  } else if (mode === 'rawmanykeep') {
    for (let i = 0; i < 100; i++) {
      const out = (await raw.mget(...(rawBatches[i % 10] as string[]))).map((v) => ({
        value: parseValue(v),
      }));
      if (out.length !== 100) throw new Error('x');
    }
    ops += 100;
  } else if (mode === 'rawpipelined') {
    let next = 0;
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        while (next < 5_000) parseValue(await raw.get(namespacedKey('bench', keys[next++ % 1000] as string)));
      }),
    );
    ops += 5_000;
  } else if (mode === 'many') {
    for (let i = 0; i < 100; i++) await store.getMany(batches[i % 10] as string[]);
    ops += 100;
  } else if (mode === 'seq') {
    for (let i = 0; i < 1000; i++) await store.get(keys[i % 1000] as string);
    ops += 1000;
  } else {
    let next = 0;
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        while (next < 5_000) await store.get(keys[next++ % 1000] as string);
      }),
    );
    ops += 5_000;
  }
}
console.log(mode, Math.round(ops / 4), 'ops/s');
await store.close();
raw.disconnect();
await redis.stop();

/** The store over a client whose `get`/`mget` resolve at once from a Map. */
async function fakeClientLoop(which: 'fakeget' | 'fakemany'): Promise<void> {
  const { store } = storeOverFakeClient();
  const keys = Array.from({ length: 1_000 }, (_, i) => `user:${i}`);
  const value = BENCH_VALUE;
  for (const k of keys) await store.set(k, createEntry(value, { now: Date.now(), ttlMs: 3_600_000 }));
  if ((await store.get(keys[0] as string)) === undefined) throw new Error('fake setup: no hit');
  const batches = Array.from({ length: 10 }, (_, b) => keys.slice(b * 100, b * 100 + 100));
  const end = performance.now() + 4_000;
  const cpu = process.cpuUsage();
  let reads = 0;
  while (performance.now() < end) {
    if (which === 'fakeget') {
      for (let i = 0; i < 10_000; i++) await store.get(keys[i % 1000] as string);
      reads += 10_000;
    } else {
      for (let i = 0; i < 100; i++) await store.getMany(batches[i % 10] as string[]);
      reads += 10_000;
    }
  }
  const used = process.cpuUsage(cpu);
  console.log(which, Math.round(((used.user + used.system) * 1000) / reads), 'CPU ns per key read');
  await store.close();
}

/** Raw fake read + parse vs the store, interleaved round by round; medians of per-round differences. */
async function fakePaired(): Promise<void> {
  const { fake, store } = storeOverFakeClient();
  const fakeValue = BENCH_VALUE;
  const keys = Array.from({ length: 1_000 }, (_, i) => `user:${i}`);
  const rawKeys = keys.map((k) => namespacedKey('bench', k));
  for (const k of keys) {
    await store.set(
      k,
      createEntry({ ...fakeValue, id: Number(k.slice(5)) }, { now: Date.now(), ttlMs: 3_600_000 }),
    );
  }
  const batches = Array.from({ length: 10 }, (_, b) => keys.slice(b * 100, b * 100 + 100));
  const rawBatches = batches.map((batch) => batch.map((k) => namespacedKey('bench', k)));
  const N = 50_000;
  const cpu = async (run: () => Promise<void>) => {
    const before = process.cpuUsage();
    await run();
    const used = process.cpuUsage(before);
    return ((used.user + used.system) * 1000) / N;
  };
  const rounds: Record<string, number[]> = { rawGet: [], get: [], rawMany: [], many: [] };
  for (let round = 0; round < 15; round++) {
    rounds.rawGet?.push(
      await cpu(async () => {
        for (let i = 0; i < N; i++) parseValue(await fake.get(rawKeys[i % 1000] as string));
      }),
    );
    rounds.get?.push(
      await cpu(async () => {
        for (let i = 0; i < N; i++) await store.get(keys[i % 1000] as string);
      }),
    );
    rounds.rawMany?.push(
      await cpu(async () => {
        for (let i = 0; i < N / 100; i++) for (const v of await fake.mget(rawBatches[i % 10])) parseValue(v);
      }),
    );
    rounds.many?.push(
      await cpu(async () => {
        for (let i = 0; i < N / 100; i++) await store.getMany(batches[i % 10] as string[]);
      }),
    );
  }
  const median = (s: number[]) => [...s].sort((a, b) => a - b)[Math.floor(s.length / 2)] as number;
  const diff = (a: number[], b: number[]) => median(a.map((v, i) => v - (b[i] as number)));
  console.log(
    `fakepaired CPU ns per key: raw get ${Math.round(median(rounds.rawGet ?? []))}, store get ${Math.round(median(rounds.get ?? []))} (+${Math.round(diff(rounds.get ?? [], rounds.rawGet ?? []))}); raw mget ${Math.round(median(rounds.rawMany ?? []))}, store getMany ${Math.round(median(rounds.many ?? []))} (+${Math.round(diff(rounds.many ?? [], rounds.rawMany ?? []))})`,
  );
  await store.close();
}
