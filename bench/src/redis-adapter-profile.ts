/**
 * Profiling driver (not a benchmark): runs one read path for 4 s against a real redis-server, for
 * `node --cpu-prof`. Modes: `seq`, `pipelined` (50 concurrent, auto-pipelining), `many` (getMany of
 * 100) for the store; `rawseq`, `rawpipelined`, `rawmany`, `rawmanykeep` for raw ioredis.
 * Run (after building the adapter): cd bench && node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx src/redis-adapter-profile.ts many
 */
import { createEntry } from '@dc/core';
import { createRedisStore, namespacedKey } from '@dc/redis-adapter';
import { startRedis } from '@dc/testkit';
import { Redis } from 'ioredis';

const mode = process.argv[2] ?? 'pipelined';
const redis = await startRedis();
const keys = Array.from({ length: 1_000 }, (_, i) => `user:${i}`);
const value = {
  id: 1,
  name: 'Ada Lovelace',
  email: 'ada@example.com',
  roles: ['admin', 'user'],
  score: 42.5,
};
const store = createRedisStore({
  connection: redis.url,
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
      for (const v of await raw.mget(...(rawBatches[i % 10] as string[]))) JSON.parse(v as string);
    ops += 100;
  } else if (mode === 'rawseq') {
    for (let i = 0; i < 1000; i++)
      JSON.parse((await raw.get(namespacedKey('bench', keys[i % 1000] as string))) as string);
    ops += 1000;
  } else if (mode === 'rawmanykeep') {
    for (let i = 0; i < 100; i++) {
      const out = (await raw.mget(...(rawBatches[i % 10] as string[]))).map((v) => {
        const e = JSON.parse(v as string);
        return { value: e.value, expiresAt: e.expiresAt, staleAt: e.staleAt };
      });
      if (out.length !== 100) throw new Error('x');
    }
    ops += 100;
  } else if (mode === 'rawpipelined') {
    let next = 0;
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        while (next < 5_000)
          JSON.parse((await raw.get(namespacedKey('bench', keys[next++ % 1000] as string))) as string);
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
