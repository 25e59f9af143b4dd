/**
 * `@dc/cache` facade hits against the facades a user would pick instead — bentocache (memory
 * driver only), cacheable and cache-manager — in one process, interleaved round by round.
 *
 * Three tables, all at 10,000 entries of a 7-field user object, keys drawn uniformly from a
 * seeded stream, every read a hit:
 * 1. `getOrSet` L1 hit (bentocache `getOrSet`, cacheable `getOrSet`, cache-manager `wrap`);
 * 2. `get` L1 hit;
 * 3. @dc's L1-miss / L2-hit path on the embedded L2 (`l1: false`), next to the same peers.
 * Ratios are against the fastest peer of each table.
 *
 * Run: pnpm --filter @dc/cache... build && pnpm --filter @dc/bench run cache
 * (`run` is needed: `pnpm cache` is a built-in pnpm command).
 */

import { createCache } from '@dc/cache';
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { createCache as createCacheManager } from 'cache-manager';
import { Cacheable } from 'cacheable';
import type { AsyncCandidate, CompareRow } from './harness';
import { compareAsync, printComparison, sampleUser, seededRandom } from './harness';

const ENTRIES = 10_000;
const STREAM = 1 << 16;
const TTL_MS = 3_600_000;

const random = seededRandom(42);
const keys = Array.from({ length: ENTRIES }, (_, i) => `user:${i}`);
const stream = Array.from({ length: STREAM }, () => keys[Math.floor(random() * ENTRIES)] as string);
const users = keys.map((_, i) => sampleUser(i));
type User = (typeof users)[number];
const byKey = new Map(keys.map((key, i) => [key, users[i] as User]));
const load = async (key: string): Promise<User> => byKey.get(key) as User;

// @dc on the embedded default (L1 + in-process L2). `dc` keeps L1 entries as long as the peers
// keep theirs, so every read is an L1 hit; `dcDefault` has the L1's default 2 s cap, so each key is
// refilled from L2 every 2 s during the run (all 10k at once, since they were written together).
const dc = createCache<User>({ ttl: TTL_MS, l1: { maxEntries: 2 * ENTRIES, defaultTtlMs: TTL_MS } });
const dcDefault = createCache<User>({ ttl: TTL_MS, l1: { maxEntries: 2 * ENTRIES } });
// A/B in the same run: the hit path reading the clock on every hit (L1 and facade), as before
// `clockResolutionMs` existed.
const dcExact = createCache<User>({
  ttl: TTL_MS,
  l1: { maxEntries: 2 * ENTRIES, defaultTtlMs: TTL_MS, clockResolutionMs: 0 },
});
// A/B in the same run: the L1's memory store on a null-prototype object key index.
const dcObject = createCache<User>({
  ttl: TTL_MS,
  l1: { maxEntries: 2 * ENTRIES, defaultTtlMs: TTL_MS, keyIndex: 'object' },
});
const dcL2Only = createCache<User>({ ttl: TTL_MS, l1: false });

const bento = new BentoCache({
  default: 'memory',
  stores: { memory: bentostore().useL1Layer(memoryDriver({ maxItems: 2 * ENTRIES })) },
});
const cacheable = new Cacheable({ ttl: TTL_MS });
const cacheManager = createCacheManager({ ttl: TTL_MS });

for (const [i, key] of keys.entries()) {
  const user = users[i] as User;
  await dc.set(key, user);
  await dcDefault.set(key, user);
  await dcExact.set(key, user);
  await dcObject.set(key, user);
  await dcL2Only.set(key, user);
  await bento.set({ key, value: user, ttl: TTL_MS });
  await cacheable.set(key, user, TTL_MS);
  await cacheManager.set(key, user, TTL_MS);
}

// A full GC before every measured run (`collectGarbage`), so each candidate pays only for its own
// garbage: the peers allocate per call (promises, wrappers, events) and, interleaved, their garbage
// would be collected during the next candidate's round (measured: @dc ran 2-4x slower after a
// peer's round than on a collected heap, while the peers barely changed).
const measure = (candidates: readonly AsyncCandidate[]) => compareAsync(candidates, { collectGarbage: true });

const candidate = (name: string, read: (key: string) => Promise<unknown>): AsyncCandidate => ({
  name,
  async run(n) {
    let last: unknown;
    for (let i = 0; i < n; i++) last = await read(stream[i & (STREAM - 1)] as string);
    if (last === undefined) throw new Error(`${name}: a read missed`);
    return last;
  },
});

/** Ratios against the fastest peer facade, which is what the target is stated against. */
function againstBestPeer(rows: CompareRow[], peers: readonly string[]): CompareRow[] {
  const best = Math.max(...rows.filter((r) => peers.includes(r.name)).map((r) => r.opsPerSec));
  return rows.map((r) => ({ ...r, ratio: r.opsPerSec / best }));
}

const PEERS_GET_OR_SET = ['bentocache getOrSet (memory)', 'cacheable getOrSet', 'cache-manager wrap'];
const getOrSetRows = await measure([
  candidate('bentocache getOrSet (memory)', (key) =>
    bento.getOrSet({ key, factory: () => load(key), ttl: TTL_MS }),
  ),
  candidate('cacheable getOrSet', (key) => cacheable.getOrSet(key, () => load(key), { ttl: TTL_MS })),
  candidate('cache-manager wrap', (key) => cacheManager.wrap(key, () => load(key), TTL_MS)),
  candidate('@dc/cache getOrSet (L1 hit)', (key) => dc.getOrSet(key, load)),
  candidate('@dc/cache getOrSet (default 2 s L1 cap)', (key) => dcDefault.getOrSet(key, load)),
  candidate('@dc/cache getOrSet (L1 hit, clockResolutionMs: 0)', (key) => dcExact.getOrSet(key, load)),
  candidate("@dc/cache getOrSet (L1 hit, keyIndex: 'object')", (key) => dcObject.getOrSet(key, load)),
]);
printComparison(
  `getOrSet, L1 hit, ${ENTRIES} entries (ratio vs the fastest peer facade)`,
  againstBestPeer(getOrSetRows, PEERS_GET_OR_SET),
);

const PEERS_GET = ['bentocache get (memory)', 'cacheable get', 'cache-manager get'];
const getRows = await measure([
  candidate('bentocache get (memory)', (key) => bento.get({ key })),
  candidate('cacheable get', (key) => cacheable.get(key)),
  candidate('cache-manager get', (key) => cacheManager.get(key)),
  candidate('@dc/cache get (L1 hit)', (key) => dc.get(key)),
  candidate('@dc/cache get (default 2 s L1 cap)', (key) => dcDefault.get(key)),
  candidate('@dc/cache get (L1 hit, clockResolutionMs: 0)', (key) => dcExact.get(key)),
  candidate("@dc/cache get (L1 hit, keyIndex: 'object')", (key) => dcObject.get(key)),
  // Not awaited: the synchronous L1 read, for code that can use it (no peer has one).
  {
    name: '@dc/cache getSync (L1 only, no await)',
    async run(n) {
      let last: unknown;
      for (let i = 0; i < n; i++) last = dc.getSync(stream[i & (STREAM - 1)] as string);
      if (last === undefined) throw new Error('getSync missed');
      return last;
    },
  },
]);
printComparison(
  `get, L1 hit, ${ENTRIES} entries (ratio vs the fastest peer facade)`,
  againstBestPeer(getRows, PEERS_GET),
);

const l2Rows = await measure([
  candidate('bentocache getOrSet (memory)', (key) =>
    bento.getOrSet({ key, factory: () => load(key), ttl: TTL_MS }),
  ),
  candidate('cacheable getOrSet', (key) => cacheable.getOrSet(key, () => load(key), { ttl: TTL_MS })),
  candidate('cache-manager wrap', (key) => cacheManager.wrap(key, () => load(key), TTL_MS)),
  candidate('@dc/cache getOrSet (no L1: embedded L2 hit)', (key) => dcL2Only.getOrSet(key, load)),
  candidate('@dc/cache get (no L1: embedded L2 hit)', (key) => dcL2Only.get(key)),
]);
printComparison(
  `L1 miss / embedded-L2 hit, ${ENTRIES} entries (ratio vs the fastest peer facade's L1 hit)`,
  againstBestPeer(l2Rows, PEERS_GET_OR_SET),
);

for (const [name, cache] of [
  ['L1 hit', dc],
  ['default 2 s L1 cap', dcDefault],
] as const) {
  const { l1Hits, l2Hits, misses, loads } = cache.stats();
  console.log(`@dc/cache (${name}) stats: ${JSON.stringify({ l1Hits, l2Hits, misses, loads })}`);
}
await Promise.all([
  dc.close(),
  dcDefault.close(),
  dcL2Only.close(),
  dcExact.close(),
  dcObject.close(),
  bento.disconnect(),
  cacheable.disconnect(),
  cacheManager.disconnect(),
]);
