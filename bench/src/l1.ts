/**
 * `@dc/l1` get-hit against node-cache (default `useClones: true`, and `useClones: false`) and
 * lru-cache, at 10k entries, keys drawn uniformly from a seeded stream.
 *
 * Two tables: synchronous reads (`getSync` vs the peers' `get`), and reads behind an `await`
 * (`await l1.get(k)` vs each peer's `get` inside an `async` function, which is how a facade
 * would wrap them). Ratios are against node-cache with its default clones, the issue's anchor.
 *
 * Run: pnpm --filter @dc/l1 build && pnpm --filter @dc/bench l1
 */
import { createL1Store } from '@dc/l1';
import { LRUCache } from 'lru-cache';
import NodeCache from 'node-cache';
import type { AsyncCandidate, Candidate } from './harness';
import { compare, compareAsync, printComparison, sampleUser, seededRandom, zipfStream } from './harness';

const ENTRIES = 10_000;
const STREAM = 1 << 16;
// Entries and the L1 cap outlive the run, so every read is a hit.
const LONG_MS = 3_600_000;

const random = seededRandom(42);
const keys = Array.from({ length: ENTRIES }, (_, i) => `user:${i}`);
const stream = Array.from({ length: STREAM }, () => keys[Math.floor(random() * ENTRIES)] as string);

const now = Date.now();
const entries = keys.map((_, i) => ({
  value: sampleUser(i),
  expiresAt: now + LONG_MS,
  staleAt: now + LONG_MS,
}));

const l1 = createL1Store({ maxEntries: ENTRIES, defaultTtlMs: LONG_MS });
// A/B in the same run: the previous hit path, a clock read on every hit.
const l1Exact = createL1Store({ maxEntries: ENTRIES, defaultTtlMs: LONG_MS, clockResolutionMs: 0 });
const l1Object = createL1Store({ maxEntries: ENTRIES, defaultTtlMs: LONG_MS, keyIndex: 'object' });
const l1Clones = createL1Store({ maxEntries: ENTRIES, defaultTtlMs: LONG_MS, cloneValues: true });
const l1NodeCache = createL1Store({ backend: 'node-cache', maxEntries: ENTRIES, defaultTtlMs: LONG_MS });
const nodeCacheDefault = new NodeCache({ stdTTL: LONG_MS / 1000 });
const nodeCacheNoClones = new NodeCache({ stdTTL: LONG_MS / 1000, useClones: false });
const lru = new LRUCache<string, (typeof entries)[number]>({ max: ENTRIES, ttl: LONG_MS });

keys.forEach((key, i) => {
  const entry = entries[i] as (typeof entries)[number];
  l1.setSync(key, entry);
  l1Exact.setSync(key, entry);
  l1Object.setSync(key, entry);
  l1NodeCache.setSync(key, entry);
  l1Clones.setSync(key, entry);
  nodeCacheDefault.set(key, entry);
  nodeCacheNoClones.set(key, entry);
  lru.set(key, entry);
});

const syncCandidate = (name: string, get: (key: string) => unknown): Candidate => ({
  name,
  run(n) {
    let last: unknown;
    for (let i = 0; i < n; i++) last = get(stream[i & (STREAM - 1)] as string);
    return last;
  },
});

const ids = Uint32Array.from({ length: STREAM }, () => Math.floor(random() * ENTRIES));
const idCandidate = (name: string, get: (id: number) => unknown): Candidate => ({
  name,
  run(n) {
    let last: unknown;
    for (let i = 0; i < n; i++) last = get(ids[i & (STREAM - 1)] as number);
    return last;
  },
});

const syncRows = compare(
  [
    syncCandidate('node-cache get (useClones: true, default)', (k) => nodeCacheDefault.get(k)),
    syncCandidate('node-cache get (useClones: false)', (k) => nodeCacheNoClones.get(k)),
    syncCandidate('lru-cache 11 get', (k) => lru.get(k)),
    syncCandidate('@dc/l1 getSync (memory)', (k) => l1.getSync(k)),
    syncCandidate('@dc/l1 getSync (memory, clockResolutionMs: 0)', (k) => l1Exact.getSync(k)),
    syncCandidate("@dc/l1 getSync (keyIndex: 'object')", (k) => l1Object.getSync(k)),
    // Keys built per call, as a facade sees them from requests: the strings are new each time.
    idCandidate('@dc/l1 getSync, key built per call (memory)', (id) => l1.getSync(`user:${id}`)),
    idCandidate("@dc/l1 getSync, key built per call (keyIndex: 'object')", (id) =>
      l1Object.getSync(`user:${id}`),
    ),
    syncCandidate('@dc/l1 getSync (backend node-cache)', (k) => l1NodeCache.getSync(k)),
    syncCandidate('@dc/l1 getSync (cloneValues: true)', (k) => l1Clones.getSync(k)),
  ],
  { baseline: 'node-cache get (useClones: true, default)' },
);
printComparison(`get-hit, synchronous, ${ENTRIES} entries (ratio vs node-cache default)`, syncRows);

const asyncCandidate = (name: string, get: (key: string) => Promise<unknown>): AsyncCandidate => ({
  name,
  async run(n) {
    let last: unknown;
    for (let i = 0; i < n; i++) last = await get(stream[i & (STREAM - 1)] as string);
    return last;
  },
});

const asyncRows = await compareAsync(
  [
    asyncCandidate('node-cache get in async fn (default)', async (k) => nodeCacheDefault.get(k)),
    asyncCandidate('node-cache get in async fn (useClones: false)', async (k) => nodeCacheNoClones.get(k)),
    asyncCandidate('lru-cache get in async fn', async (k) => lru.get(k)),
    asyncCandidate('@dc/l1 await get (memory)', (k) => l1.get(k)),
    asyncCandidate('@dc/l1 await get (memory, clockResolutionMs: 0)', (k) => l1Exact.get(k)),
  ],
  { baseline: 'node-cache get in async fn (default)' },
);
printComparison(`get-hit, awaited, ${ENTRIES} entries (ratio vs node-cache default)`, asyncRows);

// Miss churn: every write is a new key into a full L1, so each one inserts and evicts — what an
// L1 does on its misses. `keyIndex` trades this path against the hit path above.
const churnKeys = Array.from({ length: STREAM }, (_, i) => `churn:${i}`);
const churnStores: Array<ReturnType<typeof createL1Store>> = [];
const churnCandidate = (name: string, keyIndex: 'map' | 'object'): Candidate => {
  const store = createL1Store({ maxEntries: ENTRIES, defaultTtlMs: LONG_MS, keyIndex });
  churnStores.push(store);
  for (const [i, key] of keys.entries()) store.setSync(key, entries[i] as (typeof entries)[number]);
  let next = 0;
  return {
    name,
    run(n) {
      for (let i = 0; i < n; i++) {
        const at = next++;
        // A fresh key each lap: the lap number makes it unseen even after the stream wraps.
        store.setSync(
          `${churnKeys[at & (STREAM - 1)] as string}:${at >>> 16}`,
          entries[at % ENTRIES] as (typeof entries)[number],
        );
      }
      return store.size;
    },
  };
};
const churnRows = compare(
  [
    churnCandidate("@dc/l1 setSync new key, full (keyIndex: 'map', default)", 'map'),
    churnCandidate("@dc/l1 setSync new key, full (keyIndex: 'object')", 'object'),
  ],
  { baseline: "@dc/l1 setSync new key, full (keyIndex: 'map', default)" },
);
printComparison(`insert + evict (miss churn), ${ENTRIES} entries full (ratio vs keyIndex 'map')`, churnRows);

// Read-through mix: a Zipf(0.9) stream over 100,000 keys into a 10,000-entry L1; a miss writes
// the key (what a facade does after L2/the loader), so both paths run in their natural ratio.
const MIX_KEYS = 100_000;
const MIX_STREAM = 1 << 18;
const mixKeys = Array.from({ length: MIX_KEYS }, (_, i) => `item:${i}`);
const mixStream = zipfStream(MIX_KEYS, 0.9, MIX_STREAM, seededRandom(7));
const mixCandidate = (
  name: string,
  keyIndex: 'map' | 'object',
  keyOf: (id: number) => string,
): Candidate & { hitRatio(): number } => {
  const store = createL1Store({ maxEntries: ENTRIES, defaultTtlMs: LONG_MS, keyIndex });
  churnStores.push(store);
  let next = 0;
  return {
    name,
    run(n) {
      let last: unknown;
      for (let i = 0; i < n; i++) {
        const id = mixStream[next++ & (MIX_STREAM - 1)] as number;
        const key = keyOf(id);
        last = store.getSync(key);
        if (last === undefined) store.setSync(key, entries[id % ENTRIES] as (typeof entries)[number]);
      }
      return last;
    },
    hitRatio() {
      const { hits, misses } = store.stats();
      return hits / (hits + misses);
    },
  };
};
const premade = (id: number) => mixKeys[id] as string;
const perCall = (id: number) => `item:${id}`;
const mixMap = mixCandidate("@dc/l1 getSync, setSync on miss (keyIndex: 'map', default)", 'map', premade);
const mixObject = mixCandidate("@dc/l1 getSync, setSync on miss (keyIndex: 'object')", 'object', premade);
const mixMapFresh = mixCandidate(
  "@dc/l1 getSync, setSync on miss, key built per call (keyIndex: 'map')",
  'map',
  perCall,
);
const mixObjectFresh = mixCandidate(
  "@dc/l1 getSync, setSync on miss, key built per call (keyIndex: 'object')",
  'object',
  perCall,
);
const mixRows = compare([mixMap, mixObject, mixMapFresh, mixObjectFresh], { baseline: mixMap.name });
printComparison(
  `read-through mix, Zipf 0.9 over ${MIX_KEYS} keys, ${ENTRIES}-entry L1 (hit ratio ${(100 * mixMap.hitRatio()).toFixed(1)}%; ratio vs keyIndex 'map')`,
  mixRows,
);

await Promise.all([
  l1.close(),
  l1Exact.close(),
  l1Object.close(),
  l1NodeCache.close(),
  l1Clones.close(),
  ...churnStores.map((s) => s.close()),
]);
nodeCacheDefault.close();
nodeCacheNoClones.close();
