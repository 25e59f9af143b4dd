/**
 * @dc/hotkeys benchmarks.
 *
 * 1. `record(key)` throughput on short keys drawn from Zipf(1.1), against the counter a user would
 *    otherwise write (an unbounded `Map<string, number>`), with and without sampling.
 * 2. The overhead `record` adds to an in-process get-hit (a `Map` with an expiry check,
 *    lru-cache's `get`, and `@dc/l1`'s `getSync`).
 * 3. A simulated 3-shard Redis Cluster (real CRC16 slots, the default 3-primary slot ranges)
 *    under Zipf(1.1) reads in virtual time: the busiest shard's share of the requests that reach
 *    the shards, with no mitigation, with `withHotKeyReplicas` and with `withHotKeyPromotion`.
 *
 * Run: `pnpm build && pnpm --filter @dc/bench hotkeys`
 */
import {
  type CacheEntry,
  type CacheStore,
  createEntry,
  createManualClock,
  defineStore,
  type SyncCacheStore,
} from '@dc/core';
import { createSlotMap, type SlotMap } from '@dc/hashing';
import { createHotKeyDetector, withHotKeyPromotion, withHotKeyReplicas } from '@dc/hotkeys';
import { createL1Store } from '@dc/l1';
import { LRUCache } from 'lru-cache';
import { type Candidate, compare, consume, printComparison, seededRandom, zipfStream } from './harness';

const SEED = 42;
const KEY_SPACE = 100_000;
const STREAM = 1 << 20;

const random = seededRandom(SEED);
const names = Array.from({ length: KEY_SPACE }, (_, i) => `user:${i}`);
const ranks = zipfStream(KEY_SPACE, 1.1, STREAM, random);
const stream = Array.from(ranks, (r) => names[r] as string);
const mask = STREAM - 1;

// --- 1. record throughput -------------------------------------------------------------------

function recordThroughput(): void {
  const full = createHotKeyDetector({ topK: 16 });
  const sampled = createHotKeyDetector({ topK: 16, sampleRate: 1 / 16, random: seededRandom(SEED) });
  const naive = new Map<string, number>();
  let i = 0;
  const rows = compare(
    [
      {
        name: 'Map<string, number> exact counter (unbounded)',
        run: (n) => {
          for (let k = 0; k < n; k++) {
            const key = stream[i++ & mask] as string;
            naive.set(key, (naive.get(key) ?? 0) + 1);
          }
          return naive.size;
        },
      },
      {
        name: 'detector.record (sampleRate 1)',
        run: (n) => {
          for (let k = 0; k < n; k++) full.record(stream[i++ & mask] as string);
          return i;
        },
      },
      {
        name: 'detector.record (sampleRate 1/16)',
        run: (n) => {
          for (let k = 0; k < n; k++) sampled.record(stream[i++ & mask] as string);
          return i;
        },
      },
    ],
    { rounds: 15, roundMs: 100 },
  );
  printComparison('record(key), Zipf(1.1) over 100k short keys', rows);
  consume(full.top(3));
  full.close();
  sampled.close();
}

// --- 2. overhead on a get-hit ------------------------------------------------------------------

/**
 * Extra time per operation of `variant` over `base`: both run back to back in short slices
 * (order alternating), and the median of the per-pair time ratios is returned. Pairs a few
 * milliseconds apart see the same machine load, which a shared 2-core machine needs.
 */
function pairedOverhead(base: Candidate, variant: Candidate, pairs = 201, sliceOps = 50_000): number {
  const ratios: number[] = [];
  const time = (c: Candidate) => {
    const start = process.hrtime.bigint();
    consume(c.run(sliceOps));
    return Number(process.hrtime.bigint() - start);
  };
  for (let w = 0; w < 5; w++) {
    time(base);
    time(variant);
  }
  for (let p = 0; p < pairs; p++) {
    if (p % 2 === 0) {
      const b = time(base);
      ratios.push(time(variant) / b);
    } else {
      const v = time(variant);
      ratios.push(v / time(base));
    }
  }
  ratios.sort((a, b) => a - b);
  return (ratios[pairs >> 1] as number) - 1;
}

const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(0)}%`;

function getHitOverhead(): void {
  const map = new Map<string, { value: number; expiresAt: number }>();
  const lru = new LRUCache<string, { value: number }>({ max: KEY_SPACE });
  for (let r = 0; r < KEY_SPACE; r++) {
    map.set(names[r] as string, { value: r, expiresAt: Number.MAX_SAFE_INTEGER });
    lru.set(names[r] as string, { value: r });
  }
  const l1 = createL1Store<number>({ maxEntries: KEY_SPACE });
  for (let r = 0; r < KEY_SPACE; r++) {
    l1.setSync(names[r] as string, createEntry(r, { now: Date.now(), ttlMs: 3_600_000 }));
  }
  const full = createHotKeyDetector({ topK: 16 });
  const sampled = createHotKeyDetector({ topK: 16, sampleRate: 1 / 16, random: seededRandom(SEED) });
  const now = Date.now();
  let i = 0;
  const mapHit = (key: string) => {
    const entry = map.get(key);
    return entry !== undefined && entry.expiresAt > now ? entry.value : undefined;
  };
  const candidates: Candidate[] = [
    {
      name: 'Map get-hit',
      run: (n) => {
        let s = 0;
        for (let k = 0; k < n; k++) s += mapHit(stream[i++ & mask] as string) ?? 0;
        return s;
      },
    },
    {
      name: 'Map get-hit + record',
      run: (n) => {
        let s = 0;
        for (let k = 0; k < n; k++) {
          const key = stream[i++ & mask] as string;
          full.record(key);
          s += mapHit(key) ?? 0;
        }
        return s;
      },
    },
    {
      name: 'Map get-hit + record (sampleRate 1/16)',
      run: (n) => {
        let s = 0;
        for (let k = 0; k < n; k++) {
          const key = stream[i++ & mask] as string;
          sampled.record(key);
          s += mapHit(key) ?? 0;
        }
        return s;
      },
    },
    {
      name: 'lru-cache get-hit',
      run: (n) => {
        let s = 0;
        for (let k = 0; k < n; k++) s += lru.get(stream[i++ & mask] as string)?.value ?? 0;
        return s;
      },
    },
    {
      name: 'lru-cache get-hit + record',
      run: (n) => {
        let s = 0;
        for (let k = 0; k < n; k++) {
          const key = stream[i++ & mask] as string;
          full.record(key);
          s += lru.get(key)?.value ?? 0;
        }
        return s;
      },
    },
    {
      name: 'lru-cache get-hit + record (sampleRate 1/16)',
      run: (n) => {
        let s = 0;
        for (let k = 0; k < n; k++) {
          const key = stream[i++ & mask] as string;
          sampled.record(key);
          s += lru.get(key)?.value ?? 0;
        }
        return s;
      },
    },
    {
      name: '@dc/l1 getSync hit',
      run: (n) => {
        let s = 0;
        for (let k = 0; k < n; k++) s += l1.getSync(stream[i++ & mask] as string)?.value ?? 0;
        return s;
      },
    },
    {
      name: '@dc/l1 getSync hit + record',
      run: (n) => {
        let s = 0;
        for (let k = 0; k < n; k++) {
          const key = stream[i++ & mask] as string;
          full.record(key);
          s += l1.getSync(key)?.value ?? 0;
        }
        return s;
      },
    },
    {
      name: '@dc/l1 getSync hit + record (sampleRate 1/16)',
      run: (n) => {
        let s = 0;
        for (let k = 0; k < n; k++) {
          const key = stream[i++ & mask] as string;
          sampled.record(key);
          s += l1.getSync(key)?.value ?? 0;
        }
        return s;
      },
    },
  ];
  const rows = compare(candidates, { rounds: 15, roundMs: 100 });
  printComparison('get-hit with and without record (ops/s medians, ratios against Map get-hit)', rows);
  const byName = new Map(candidates.map((c) => [c.name, c]));
  const pair = (base: string, variant: string) =>
    pairedOverhead(byName.get(base) as Candidate, byName.get(variant) as Candidate);
  console.log('\nOverhead of `record` on the get-hit (median of 201 back-to-back slice pairs):\n');
  console.log('| get-hit | + record | + record (sampleRate 1/16) |');
  console.log('|---|---:|---:|');
  for (const base of ['Map get-hit', 'lru-cache get-hit', '@dc/l1 getSync hit']) {
    const whole = pair(base, `${base} + record`);
    const sparse = pair(base, `${base} + record (sampleRate 1/16)`);
    console.log(`| ${base} | ${pct(whole)} | ${pct(sparse)} |`);
  }
  full.close();
  sampled.close();
}

// --- 3. simulated 3-shard cluster -----------------------------------------------------------------

/** The slot ranges `redis-cli --cluster create` gives three primaries. */
function threeShardMap(): SlotMap {
  return createSlotMap([
    { start: 0, end: 5460, primary: 'shard-a:6379', replicas: [] },
    { start: 5461, end: 10922, primary: 'shard-b:6379', replicas: [] },
    { start: 10923, end: 16383, primary: 'shard-c:6379', replicas: [] },
  ]);
}

/** A store that answers every key (a warm cache) and counts the requests each shard receives. */
function createShardStore(slotMap: SlotMap, farFuture: number) {
  const perShard = new Map<string, number>(slotMap.nodes.map((node) => [node, 0]));
  const entry: CacheEntry<number> = { value: 1, expiresAt: farFuture, staleAt: farFuture };
  const store = defineStore<number>({
    name: 'shards',
    async get(key) {
      const node = slotMap.nodeForKey(key) as string;
      perShard.set(node, (perShard.get(node) as number) + 1);
      return entry;
    },
    async set() {},
    async delete() {
      return true;
    },
    async clear() {},
  });
  return { store, perShard };
}

function createMapL1(now: () => number): CacheStore<number> & SyncCacheStore<number> {
  const data = new Map<string, CacheEntry<number>>();
  const sync: SyncCacheStore<number> = {
    getSync: (key) => {
      const e = data.get(key);
      return e !== undefined && now() < e.expiresAt ? e : undefined;
    },
    setSync: (key, e) => void data.set(key, e),
    deleteSync: (key) => data.delete(key),
  };
  const store = defineStore<number>({
    name: 'l1',
    get: async (key) => sync.getSync(key),
    set: async (key, e) => sync.setSync(key, e),
    delete: async (key) => sync.deleteSync(key),
    clear: async () => data.clear(),
  });
  return Object.assign(store, sync);
}

type Mitigation = 'none' | 'replication (3 replicas)' | 'L1 promotion (hotL1TtlMs 1 s)';

async function simulateCluster(mitigation: Mitigation, requests: number, ratePerMs: number) {
  const slotMap = threeShardMap();
  const clock = createManualClock(1_700_000_000_000);
  const { store: shards, perShard } = createShardStore(slotMap, clock.now() + 3_600_000);
  // Hot = at least 0.5% of this process's traffic, at most 16 keys.
  const detector = createHotKeyDetector({ windowMs: 2_000, topK: 16, threshold: ratePerMs * 5, clock });
  let store: CacheStore<number> = shards;
  if (mitigation === 'replication (3 replicas)') {
    store = withHotKeyReplicas<number>({ detector, replicas: 3, slotMap, random: seededRandom(SEED) })(
      shards,
    );
  } else if (mitigation === 'L1 promotion (hotL1TtlMs 1 s)') {
    store = withHotKeyPromotion<number>({ detector, l1: createMapL1(clock.now), hotL1TtlMs: 1_000 })(shards);
  }
  const simRandom = seededRandom(SEED + 1);
  const simRanks = zipfStream(KEY_SPACE, 1.1, requests, simRandom);
  for (let i = 0; i < requests; i++) {
    if (mitigation === 'none') detector.record(names[simRanks[i] as number] as string);
    await store.get(names[simRanks[i] as number] as string);
    if (i % ratePerMs === ratePerMs - 1) clock.advance(1);
  }
  detector.close();
  const counts = [...perShard.values()];
  const total = counts.reduce((a, b) => a + b, 0);
  const busiest = Math.max(...counts);
  return {
    total,
    share: busiest / total,
    maxOverMean: busiest / (total / counts.length),
    hot: detector.hotKeys().length,
  };
}

async function clusterSimulation(): Promise<void> {
  const requests = 1_000_000;
  const ratePerMs = 100; // 100k requests/s of virtual time: 10 s
  console.log(
    `\n### Simulated 3-shard cluster, Zipf(1.1) over ${KEY_SPACE / 1000}k keys, ${requests / 1e6}M reads at ${ratePerMs}k/s (virtual), seed ${SEED}\n`,
  );
  console.log(
    '| mitigation | reads reaching shards | busiest shard share | busiest / mean | hot keys at end |',
  );
  console.log('|---|---:|---:|---:|---:|');
  for (const mitigation of ['none', 'replication (3 replicas)', 'L1 promotion (hotL1TtlMs 1 s)'] as const) {
    const r = await simulateCluster(mitigation, requests, ratePerMs);
    console.log(
      `| ${mitigation} | ${r.total.toLocaleString('en-US')} (${((r.total / requests) * 100).toFixed(1)}%) | ${(r.share * 100).toFixed(1)}% | ${r.maxOverMean.toFixed(2)}x | ${r.hot} |`,
    );
  }
}

const only = process.argv[2];
console.log(`# @dc/hotkeys bench (node ${process.version})`);
if (!only || only === 'record') recordThroughput();
if (!only || only === 'overhead') getHitOverhead();
if (!only || only === 'cluster') await clusterSimulation();
