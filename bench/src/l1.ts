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
import { compare, compareAsync, printComparison, sampleUser, seededRandom } from './harness';

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
const l1Clones = createL1Store({ maxEntries: ENTRIES, defaultTtlMs: LONG_MS, cloneValues: true });
const l1NodeCache = createL1Store({ backend: 'node-cache', maxEntries: ENTRIES, defaultTtlMs: LONG_MS });
const nodeCacheDefault = new NodeCache({ stdTTL: LONG_MS / 1000 });
const nodeCacheNoClones = new NodeCache({ stdTTL: LONG_MS / 1000, useClones: false });
const lru = new LRUCache<string, (typeof entries)[number]>({ max: ENTRIES, ttl: LONG_MS });

keys.forEach((key, i) => {
  const entry = entries[i] as (typeof entries)[number];
  l1.setSync(key, entry);
  l1Exact.setSync(key, entry);
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

const syncRows = compare(
  [
    syncCandidate('node-cache get (useClones: true, default)', (k) => nodeCacheDefault.get(k)),
    syncCandidate('node-cache get (useClones: false)', (k) => nodeCacheNoClones.get(k)),
    syncCandidate('lru-cache 11 get', (k) => lru.get(k)),
    syncCandidate('@dc/l1 getSync (memory)', (k) => l1.getSync(k)),
    syncCandidate('@dc/l1 getSync (memory, clockResolutionMs: 0)', (k) => l1Exact.getSync(k)),
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

await Promise.all([l1.close(), l1Exact.close(), l1NodeCache.close(), l1Clones.close()]);
nodeCacheDefault.close();
nodeCacheNoClones.close();
