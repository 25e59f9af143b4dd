/**
 * @dc/hashing vs the libraries a user would pick instead:
 * - `keySlot` vs `cluster-key-slot` (what ioredis uses) on short, tagged, long and non-ASCII keys;
 * - Ketama `getNode` vs `hashring` 3.2 on distinct keys with both result caches off, 10 and 100
 *   nodes, after checking that both place every key identically;
 * - the same with both result caches on, over a Zipf-skewed hot key stream (reported separately);
 * - balance and remap numbers for both.
 *
 * Run: pnpm --filter @dc/hashing build && pnpm --filter @dc/bench hashing
 */
import { createRequire } from 'node:module';
import {
  createKetamaRing,
  type KetamaRing,
  type KeyRouter,
  keySlot,
  measureBalance,
  remapFraction,
} from '@dc/hashing';
import clusterKeySlot from 'cluster-key-slot';
import { type Candidate, compare, printComparison, seededRandom, zipfStream } from './harness';

interface HashRingInstance {
  get(key: string): string;
  cache: { get(key: string): unknown; set(key: string, value: unknown): void };
}
type HashRingConstructor = new (
  servers: string[],
  algorithm?: string,
  options?: Record<string, unknown>,
) => HashRingInstance;

// hashring ships no types; load it through require and describe the two members used here.
const HashRing = createRequire(import.meta.url)('hashring') as HashRingConstructor;

const random = seededRandom(20261127);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);

function repeatKeys(make: (i: number) => string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => make(i));
}

function slotCandidates(keys: readonly string[]): Candidate[] {
  const mask = keys.length - 1;
  return [
    {
      name: 'cluster-key-slot',
      run: (n) => {
        let acc = 0;
        for (let i = 0; i < n; i++) acc ^= clusterKeySlot(keys[i & mask] as string);
        return acc;
      },
    },
    {
      name: '@dc/hashing keySlot',
      run: (n) => {
        let acc = 0;
        for (let i = 0; i < n; i++) acc ^= keySlot(keys[i & mask] as string);
        return acc;
      },
    },
  ];
}

function benchKeySlot(): void {
  // 64 keys per shape (a power of two, for the index mask); each id keeps the shape's length.
  const shapes: Record<string, string[]> = {
    'short ASCII ("user:12345")': repeatKeys((i) => `user:${12345 + i}`, 64),
    'hash tag ("{user:12345}:following")': repeatKeys((i) => `{user:${12345 + i}}:following`, 64),
    'long (~90 bytes)': repeatKeys(
      (i) =>
        `tenant:acme-corporation:region:eu-west-1:service:billing:invoice:2026-11-27:line-item:${10000 + i}`,
      64,
    ),
    'non-ASCII ("usuário:ñandú:…")': repeatKeys((i) => `usuário:ñandú:日本:${12345 + i}`, 64),
  };
  for (const [shape, keys] of Object.entries(shapes)) {
    const disagreements = keys.filter((k) => keySlot(k) !== clusterKeySlot(k));
    if (disagreements.length > 0) throw new Error(`slot mismatch for ${shape}: ${disagreements[0]}`);
    printComparison(`keySlot: ${shape}`, compare(slotCandidates(keys), { rounds: ROUNDS }));
  }
  console.log(
    `\nslot of "foo{}{bar}": redis ${keySlot('foo{}{bar}')} (whole key), cluster-key-slot ${clusterKeySlot('foo{}{bar}')}`,
  );
}

function servers(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `10.0.${i >> 8}.${i & 255}:11211`);
}

/** hashring with its LRU result cache replaced by a no-op (`'max cache size': 0` crashes it). */
function uncachedHashRing(list: string[]): HashRingInstance {
  const ring = new HashRing(list, 'md5');
  ring.cache = { get: () => undefined, set: () => {} };
  return ring;
}

function placementDiffers(ring: KetamaRing, other: HashRingInstance, keys: readonly string[]): number {
  let differ = 0;
  for (const key of keys) if (ring.getNode(key) !== other.get(key)) differ++;
  return differ;
}

function benchKetama(): void {
  const coldKeys = repeatKeys((i) => `object:${Math.floor(random() * 1e9)}:${i}`, 1 << 17);
  const mask = coldKeys.length - 1;
  for (const n of [10, 100]) {
    const list = servers(n);
    const theirs = uncachedHashRing(list);
    const libmemcached32 = createKetamaRing(list, { pointKeyFormat: 'libketama' });
    const hashringCompatible = createKetamaRing(list, {
      pointKeyFormat: 'libketama',
      hashCountMath: 'float64',
    });
    const sample = coldKeys.slice(0, 50_000);
    const differ32 = placementDiffers(libmemcached32, theirs, sample);
    const differ64 = placementDiffers(hashringCompatible, theirs, sample);
    console.log(
      `\n${n} nodes: hashes/server float32 ${libmemcached32.hashesPerServer[0]}, hashring ${hashringCompatible.hashesPerServer[0]}; ` +
        `keys placed differently from hashring (of ${sample.length}): float32 ${differ32}, float64 ${differ64}`,
    );
    if (differ64 !== 0) throw new Error(`placement differs from hashring for ${differ64} keys`);
    const ours = hashringCompatible;
    printComparison(
      `Ketama getNode, ${n} nodes, distinct keys, result caches off`,
      compare(
        [
          {
            name: 'hashring (cache off)',
            run: (count) => {
              let acc = 0;
              for (let i = 0; i < count; i++) acc += theirs.get(coldKeys[i & mask] as string).length;
              return acc;
            },
          },
          {
            name: '@dc/hashing getNode',
            run: (count) => {
              let acc = 0;
              for (let i = 0; i < count; i++) acc += ours.getNode(coldKeys[i & mask] as string).length;
              return acc;
            },
          },
        ],
        { rounds: ROUNDS },
      ),
    );
  }
}

function benchCachedKetama(): void {
  const list = servers(10);
  const scenarios: [string, string[]][] = [
    [
      'hot set of 1000 keys (every lookup a hit)',
      Array.from({ length: 1 << 18 }, () => `hot:${Math.floor(random() * 1000)}`),
    ],
    [
      'Zipf(1.0) over 100k keys (hits and misses)',
      Array.from(zipfStream(100_000, 1.0, 1 << 18, random), (rank) => `hot:${rank}`),
    ],
  ];
  for (const [label, stream] of scenarios) {
    const mask = stream.length - 1;
    const theirs = new HashRing(list, 'md5'); // its default LRU result cache: 5000 entries
    const ours = createKetamaRing(list, { pointKeyFormat: 'libketama', resultCacheSize: 5000 });
    printComparison(
      `Ketama getNode, 10 nodes, ${label}, result caches on (5000 entries each)`,
      compare(
        [
          {
            name: 'hashring (LRU cache)',
            run: (count) => {
              let acc = 0;
              for (let i = 0; i < count; i++) acc += theirs.get(stream[i & mask] as string).length;
              return acc;
            },
          },
          {
            name: '@dc/hashing getNode (resultCacheSize 5000)',
            run: (count) => {
              let acc = 0;
              for (let i = 0; i < count; i++) acc += ours.getNode(stream[i & mask] as string).length;
              return acc;
            },
          },
        ],
        { rounds: ROUNDS },
      ),
    );
  }
}

function reportDistribution(): void {
  const keys = repeatKeys((i) => `user:${i}`, 200_000);
  console.log('\n### Balance (200k keys) and remap\n');
  console.log('| ring | max/mean 10 nodes | max/mean 100 nodes | moved when the 11th node joins |');
  console.log('|---|---:|---:|---:|');
  type Route = (key: string) => string;
  const ours = (n: number): Route => {
    const ring = createKetamaRing(servers(n));
    return (key) => ring.getNode(key);
  };
  const theirs = (n: number): Route => {
    const ring = uncachedHashRing(servers(n));
    return (key) => ring.get(key);
  };
  const row = (name: string, make: (n: number) => Route) => {
    const b10 = measureBalance(make(10) as KeyRouter, keys, servers(10)).maxOverMean;
    const b100 = measureBalance(make(100) as KeyRouter, keys, servers(100)).maxOverMean;
    const moved = remapFraction(make(10) as KeyRouter, make(11) as KeyRouter, keys);
    console.log(`| ${name} | ${b10.toFixed(3)} | ${b100.toFixed(3)} | ${(moved * 100).toFixed(2)}% |`);
  };
  row('@dc/hashing (libmemcached)', ours);
  row('hashring', theirs);
}

const only = process.argv[2];
if (only === undefined || only === 'slot') benchKeySlot();
if (only === undefined || only === 'ketama') benchKetama();
if (only === undefined || only === 'cache') benchCachedKetama();
if (only === undefined || only === 'distribution') reportDistribution();
