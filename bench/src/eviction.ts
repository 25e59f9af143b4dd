/**
 * `@dc/eviction` stores against the in-process caches a user would pick instead, same process,
 * interleaved rounds (see harness.ts). Scenarios at 10k and 1M entries: get-hit, get-miss,
 * set-update, set-with-eviction, a 90/10 get/set mix under Zipf(0.99) (with its hit ratio);
 * then bytes per entry (heap delta with --expose-gc, in a child process when needed).
 *
 *   pnpm --filter @dc/bench eviction                 # 10k and 1M
 *   EVICTION_SIZES=10000 pnpm --filter @dc/bench eviction
 *   EVICTION_ONLY=get-hit EVICTION_ROUNDS=15 EVICTION_SIZES=10000 pnpm --filter @dc/bench eviction
 *   EVICTION_CANDIDATES='@dc tinylfu,transitory' pnpm --filter @dc/bench eviction
 *
 * `EVICTION_ONLY` keeps the scenarios whose title starts with one of its comma-separated names
 * (and skips the hit-ratio and bytes tables); `EVICTION_ROUNDS` sets the rounds per scenario;
 * `EVICTION_CANDIDATES` (exact names, comma-separated) runs only those next to mnemonist.
 *
 * Notes: quick-lru's `maxSize` keeps up to 2 x maxSize entries (two generations); node-cache
 * has no eviction (it throws once `maxKeys` is reached), so it sits out set-with-eviction and
 * the 1M runs.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createMemoryStore } from '@dc/eviction';
import { SieveCache } from '@neophi/sieve-cache';
import { LRUCache } from 'lru-cache';
import { LRUCache as MnemonistLRU } from 'mnemonist';
import NodeCache from 'node-cache';
import QuickLRU from 'quick-lru';
import { LRU as TinyLRU } from 'tiny-lru';
import { newCache } from 'transitory';
import type { Candidate } from './harness';
import { compare, isolate, printComparison, seededRandom, zipfStream } from './harness';

/** The common surface of every cache here. */
interface Cache {
  get(key: string): unknown;
  set(key: string, value: number): unknown;
}

interface Maker {
  readonly name: string;
  readonly make: (capacity: number) => Cache;
  /** Can evict (node-cache cannot). */
  readonly evicts: boolean;
}

const MAKERS: Maker[] = [
  {
    name: '@dc lru',
    evicts: true,
    make: (n) => createMemoryStore<number>({ maxEntries: n, policy: 'lru' }),
  },
  {
    name: '@dc sieve',
    evicts: true,
    make: (n) => createMemoryStore<number>({ maxEntries: n, policy: 'sieve' }),
  },
  {
    name: '@dc lru (object index)',
    evicts: true,
    make: (n) => createMemoryStore<number>({ maxEntries: n, policy: 'lru', keyIndex: 'object' }),
  },
  {
    name: '@dc sieve (object index)',
    evicts: true,
    make: (n) => createMemoryStore<number>({ maxEntries: n, policy: 'sieve', keyIndex: 'object' }),
  },
  {
    name: '@dc tinylfu',
    evicts: true,
    make: (n) => createMemoryStore<number>({ maxEntries: n, policy: 'tinylfu' }),
  },
  {
    name: '@dc lfu',
    evicts: true,
    make: (n) => createMemoryStore<number>({ maxEntries: n, policy: 'lfu' }),
  },
  { name: 'lru-cache', evicts: true, make: (n) => new LRUCache<string, number>({ max: n }) },
  { name: 'mnemonist', evicts: true, make: (n) => new MnemonistLRU<string, number>(n) },
  { name: 'quick-lru', evicts: true, make: (n) => new QuickLRU<string, number>({ maxSize: n }) },
  { name: 'tiny-lru', evicts: true, make: (n) => new TinyLRU<number>(n) },
  { name: 'sieve-cache', evicts: true, make: (n) => new SieveCache<string, number>(n) },
  {
    name: 'transitory',
    evicts: true,
    make: (n) => {
      const cache = newCache<string, number>().maxSize(n).build();
      // getIfPresent answers null on a miss.
      return {
        get: (key: string) => cache.getIfPresent(key) ?? undefined,
        set: (key, value) => cache.set(key, value),
      };
    },
  },
  {
    name: 'node-cache',
    evicts: false,
    make: () => new NodeCache({ checkperiod: 0 }),
  },
  {
    name: 'node-cache (no clones)',
    evicts: false,
    make: () => new NodeCache({ checkperiod: 0, useClones: false }),
  },
];

const STREAM = 1 << 16;

function keysFor(prefix: string, count: number): string[] {
  const keys = new Array<string>(count);
  for (let i = 0; i < count; i++) keys[i] = `${prefix}${i}`;
  return keys;
}

function randomIndexes(count: number, bound: number, seed: number): Uint32Array {
  const random = seededRandom(seed);
  const out = new Uint32Array(count);
  for (let i = 0; i < count; i++) out[i] = Math.floor(random() * bound);
  return out;
}

// The measured loops. Each candidate runs its own `isolate`d copy (see harness.ts), so their
// call sites see one cache class, as in an application. Self-contained: they are recompiled.
/** A precomputed key stream and the position in it, kept across rounds. */
interface Stream {
  readonly keys: readonly string[];
  /** Indexes into `keys`, read in order (wrapping at `mask + 1`); absent: `keys` in order. */
  readonly idx?: Uint32Array;
  readonly mask: number;
  at: number;
}

/** A measured loop over a filled cache: `iterations` operations on keys read from `stream`. */
type FilledCacheLoop = (cache: Cache, stream: Stream, iterations: number) => unknown;

function getHitLoop(cache: Cache, stream: Stream, iterations: number): number {
  const { keys, idx, mask } = stream as Required<Stream>;
  let at = stream.at;
  let sum = 0;
  for (let i = 0; i < iterations; i++) sum += cache.get(keys[idx[at++ & mask] as number] as string) as number;
  stream.at = at;
  return sum;
}

/** get-hit with each key built per call, as a service builds `user:${id}`: a fresh string. */
function getHitBuiltKeyLoop(cache: Cache, stream: Stream, iterations: number): number {
  const { idx, mask } = stream as Required<Stream>;
  let at = stream.at;
  let sum = 0;
  for (let i = 0; i < iterations; i++) sum += cache.get(`key:${idx[at++ & mask] as number}`) as number;
  stream.at = at;
  return sum;
}

function getMissLoop(cache: Cache, stream: Stream, iterations: number): number {
  const { keys, mask } = stream;
  let at = stream.at;
  let found = 0;
  for (let i = 0; i < iterations; i++) if (cache.get(keys[at++ & mask] as string) !== undefined) found++;
  stream.at = at;
  return found;
}

function setUpdateLoop(cache: Cache, stream: Stream, iterations: number): Cache {
  const { keys, idx, mask } = stream as Required<Stream>;
  let at = stream.at;
  for (let i = 0; i < iterations; i++) cache.set(keys[idx[at++ & mask] as number] as string, i);
  stream.at = at;
  return cache;
}

/** Cycles through `keys` (2n distinct names): each was evicted by the time it comes back. */
function setEvictLoop(cache: Cache, stream: Stream, iterations: number): Cache {
  const { keys } = stream;
  const size = keys.length;
  let at = stream.at;
  for (let i = 0; i < iterations; i++) {
    cache.set(keys[at] as string, i);
    at = at + 1 === size ? 0 : at + 1;
  }
  stream.at = at;
  return cache;
}

/** 90% get (a miss loads and sets), 10% set: `idx` ranks keys by Zipf, `isSet` picks the sets. */
function mixLoop(cache: Cache, stream: Stream, isSet: Uint32Array, iterations: number): Cache {
  const { keys, idx, mask } = stream as Required<Stream>;
  let at = stream.at;
  for (let i = 0; i < iterations; i++) {
    const j = at++ & mask;
    const key = keys[idx[j] as number] as string;
    if (isSet[j] === 0 || cache.get(key) === undefined) cache.set(key, i);
  }
  stream.at = at;
  return cache;
}

function filled(maker: Maker, n: number, keys: readonly string[]): Cache {
  const cache = maker.make(n);
  for (let i = 0; i < n; i++) cache.set(keys[i] as string, i);
  return cache;
}

const ONLY = process.env.EVICTION_ONLY?.split(',');
// Every @dc store shares its base class's code, so with all of them in one process the calls
// that code makes into the policy (link, unlink, victim) see several classes; an application
// that picks one policy sees one. Naming candidates measures them without the others (mnemonist,
// the baseline, always runs).
const CANDIDATES = process.env.EVICTION_CANDIDATES?.split(',');

function scenario(
  title: string,
  makers: readonly Maker[],
  build: (maker: Maker) => (iterations: number) => unknown,
  rounds: number,
): void {
  if (ONLY !== undefined && !ONLY.some((name) => title.startsWith(name))) return;
  const candidates: Candidate[] = makers.map((maker) => ({ name: maker.name, run: build(maker) }));
  printComparison(title, compare(candidates, { rounds, roundMs: 150, baseline: 'mnemonist' }));
}

function runSize(n: number): void {
  const big = n >= 1_000_000;
  const makers = MAKERS.filter(
    (m) =>
      (!big || m.evicts) &&
      (CANDIDATES === undefined || m.name === 'mnemonist' || CANDIDATES.includes(m.name)),
  );
  const rounds = Number(process.env.EVICTION_ROUNDS ?? (big ? 3 : 5));
  const keys = keysFor('key:', n);
  const idx = randomIndexes(STREAM, n, 1);
  const mask = STREAM - 1;
  console.log(`\n## ${n.toLocaleString('en-US')} entries\n`);

  // Each candidate gets a cache filled with `keys` and its own copy of `measured`, reading
  // `streamKeys` through `idx`.
  const onFilledCache =
    (measured: FilledCacheLoop, streamKeys: readonly string[]) =>
    (maker: Maker): ((iterations: number) => unknown) => {
      const cache = filled(maker, n, keys);
      const loop = isolate(measured);
      const stream: Stream = { keys: streamKeys, idx, mask, at: 0 };
      return (iterations) => loop(cache, stream, iterations);
    };

  scenario(`get-hit (${n})`, makers, onFilledCache(getHitLoop, keys), rounds);
  // The loop builds `key:${i}`, keysFor's prefix: strings equal to the stored keys, made anew.
  scenario(`get-hit, keys built per call (${n})`, makers, onFilledCache(getHitBuiltKeyLoop, keys), rounds);
  scenario(`get-miss (${n})`, makers, onFilledCache(getMissLoop, keysFor('miss:', STREAM)), rounds);
  scenario(`set-update (${n})`, makers, onFilledCache(setUpdateLoop, keys), rounds);

  // Keys cycle through 2n distinct names: each was evicted by the time it comes back.
  const fresh = keysFor('new:', n);
  const cycle = [...keys, ...fresh];
  scenario(
    `set-with-eviction (${n})`,
    makers.filter((m) => m.evicts),
    (maker) => {
      const cache = filled(maker, n, keys);
      const loop = isolate(setEvictLoop);
      const stream: Stream = { keys: cycle, mask: 0, at: n };
      return (iterations) => loop(cache, stream, iterations);
    },
    rounds,
  );

  // 90% get (a miss loads and sets), 10% set, over 4n keys ranked by Zipf(0.99).
  const universe = big ? 2 * n : 4 * n;
  const names = keysFor('z:', universe);
  const zipf = zipfStream(universe, 0.99, STREAM, seededRandom(99));
  const isSet = randomIndexes(STREAM, 10, 7);
  scenario(
    `90/10 get/set, Zipf(0.99) over ${universe} keys (${n})`,
    makers.filter((m) => m.evicts),
    (maker) => {
      const cache = maker.make(n);
      const loop = isolate(mixLoop);
      const stream: Stream = { keys: names, idx: zipf, mask, at: 0 };
      return (iterations) => loop(cache, stream, isSet, iterations);
    },
    rounds,
  );
  if (!big && ONLY === undefined)
    hitRatio(
      n,
      universe,
      names,
      makers.filter((m) => m.evicts),
    );
}

/** Hit ratio of the gets of a 1M-operation stream of the same 90/10 Zipf(0.99) mix, second half. */
function hitRatio(n: number, universe: number, names: readonly string[], makers: readonly Maker[]): void {
  const ops = 1_000_000;
  const zipf = zipfStream(universe, 0.99, ops, seededRandom(1234));
  const random = seededRandom(5678);
  const isSet = new Uint8Array(ops);
  for (let i = 0; i < ops; i++) isSet[i] = random() < 0.1 ? 1 : 0;
  console.log(`\n### hit ratio of that mix: 1M operations, gets of the second half (${n})\n`);
  console.log('| candidate | hit ratio |\n|---|---:|');
  for (const maker of makers) {
    const cache = maker.make(n);
    let gets = 0;
    let hits = 0;
    for (let i = 0; i < ops; i++) {
      const key = names[zipf[i] as number] as string;
      if (isSet[i] === 1) {
        cache.set(key, i);
        continue;
      }
      const found = cache.get(key) !== undefined;
      if (!found) cache.set(key, i);
      if (i >= ops / 2) {
        gets++;
        if (found) hits++;
      }
    }
    console.log(`| ${maker.name} | ${((100 * hits) / gets).toFixed(2)}% |`);
  }
}

/** JS heap plus ArrayBuffer backing stores (typed arrays live outside `heapUsed`). */
function heapBytes(): number {
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

/** Keeps the measured cache reachable while the heap is sampled. */
const retained: Cache[] = [];
let warmedUp = false;

function bytesPerEntry(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc');
  const n = 100_000;
  const keys = keysFor('mem:', n);
  console.log(`\n### bytes per entry (${n} entries, keys and values shared, heap delta)\n`);
  console.log('| candidate | bytes/entry |\n|---|---:|');
  // The first measurement of a process pays for lazily created VM structures: warm up once.
  for (const maker of [MAKERS[0] as Maker, ...MAKERS]) {
    const samples: number[] = [];
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 4; i++) gc();
      const before = heapBytes();
      const cache = maker.make(n);
      for (let i = 0; i < n; i++) cache.set(keys[i] as string, 1);
      retained.push(cache);
      for (let i = 0; i < 4; i++) gc();
      samples.push((heapBytes() - before) / n);
      retained.length = 0;
    }
    samples.sort((a, b) => a - b);
    if (maker === MAKERS[0] && !warmedUp) {
      warmedUp = true;
      continue;
    }
    console.log(`| ${maker.name} | ${(samples[2] as number).toFixed(1)} |`);
  }
}

if (process.argv.includes('--bytes')) {
  bytesPerEntry();
} else {
  const sizes = (process.env.EVICTION_SIZES ?? '10000,1000000').split(',').map(Number);
  for (const n of sizes) runSize(n);
  // A scenario filter skips the bytes-per-entry table too.
  if (ONLY === undefined && (globalThis as { gc?: () => void }).gc !== undefined) bytesPerEntry();
  else if (ONLY === undefined) {
    const self = fileURLToPath(import.meta.url);
    const child = spawnSync(process.execPath, [...process.execArgv, '--expose-gc', self, '--bytes'], {
      stdio: 'inherit',
    });
    if (child.status !== 0)
      console.log(`bytes per entry: child run failed (${child.status ?? child.signal})`);
  }
}
