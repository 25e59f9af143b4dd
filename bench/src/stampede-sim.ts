/**
 * Stampede simulation: one hot key (and a 1,000-key variant), Poisson arrivals, a virtual clock,
 * and the real `@dc/stampede` code deciding when to recompute. Nothing sleeps: the recompute is a
 * timer on the virtual clock, and promise callbacks are drained after every timer.
 *
 * Setup (as in issue 5): TTL 10 s, recompute time Δ = 200 ms, arrivals at 10, 1k and 100k req/s,
 * spread over 3 processes (per-process defences such as single-flight run once per process; the
 * lease store is shared, like Redis). The cache is warm at t = 0 (every key written at once).
 *
 * Reported per defence: recomputes per key per TTL period, the largest number of concurrent
 * recomputes of one key ("stampede size"), the mean earliness of a recompute (how long before the
 * current value's expiry it started; negative = after expiry), and the callers that found no
 * servable value and had to wait.
 *
 * Run: pnpm --filter @dc/stampede build && pnpm --filter @dc/bench stampede
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type CacheEntry,
  type CacheStore,
  type Clock,
  createEntry,
  type SyncCacheStore,
  type TimerHandle,
} from '@dc/core';
import {
  createLeasedLoader,
  createMemoryLeaseStore,
  createReadPolicy,
  createSingleFlight,
  createStaleWhileRevalidate,
  jitterTtl,
  type LeaseStore,
} from '@dc/stampede';
import { seededRandom } from './harness';

const TTL_MS = 10_000;
const DELTA_MS = 200;
const PROCESSES = 3;
const SEED = 5;

// ---------------------------------------------------------------- virtual clock (binary heap)

interface SimTimer {
  dueAt: number;
  seq: number;
  callback: () => void;
  cancelled: boolean;
}

interface SimClock extends Clock {
  /** Fires every timer due at or before `t` (draining promise callbacks after each), then sets now = t. */
  runUntil(t: number): Promise<void>;
}

function createSimClock(): SimClock {
  let now = 0;
  let seq = 0;
  const heap: SimTimer[] = [];
  const less = (a: SimTimer, b: SimTimer) => a.dueAt < b.dueAt || (a.dueAt === b.dueAt && a.seq < b.seq);
  const push = (timer: SimTimer) => {
    heap.push(timer);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!less(heap[i] as SimTimer, heap[parent] as SimTimer)) break;
      [heap[i], heap[parent]] = [heap[parent] as SimTimer, heap[i] as SimTimer];
      i = parent;
    }
  };
  const pop = (): SimTimer => {
    const top = heap[0] as SimTimer;
    const last = heap.pop() as SimTimer;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && less(heap[l] as SimTimer, heap[m] as SimTimer)) m = l;
        if (r < heap.length && less(heap[r] as SimTimer, heap[m] as SimTimer)) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m] as SimTimer, heap[i] as SimTimer];
        i = m;
      }
    }
    return top;
  };
  const drain = () => new Promise<void>((resolve) => setImmediate(resolve));
  return {
    now: () => now,
    setTimer(callback, delayMs): TimerHandle {
      const timer: SimTimer = { dueAt: now + Math.max(0, delayMs), seq: seq++, callback, cancelled: false };
      push(timer);
      return {
        cancel: () => {
          timer.cancelled = true;
        },
      };
    },
    async runUntil(t) {
      while (heap.length > 0 && (heap[0] as SimTimer).dueAt <= t) {
        const timer = pop();
        if (timer.cancelled) continue;
        now = Math.max(now, timer.dueAt);
        timer.callback();
        await drain();
      }
      now = Math.max(now, t);
    },
  };
}

// ---------------------------------------------------------------- simulation environment

interface Env {
  readonly clock: SimClock;
  readonly random: () => number;
  readonly keys: readonly string[];
  /** The authoritative cache content (the shared L2), for the defences that read it directly. */
  readonly cache: Map<string, CacheEntry<number>>;
  /** Starts one recompute of `key` (Δ on the virtual clock); resolves the new value. */
  recompute(key: string): Promise<number>;
  /** Records a write of `entry` (every defence calls it, directly or through its store). */
  written(key: string, entry: CacheEntry<number>): void;
  /** A CacheStore + SyncCacheStore over `cache` that records writes. */
  readonly store: CacheStore<number> & SyncCacheStore<number>;
}

interface Defence {
  readonly name: string;
  /** TTL for each write (jitter changes it). */
  ttl?(env: Env): number;
  /** Builds the per-request handler; `proc` is the process (0..PROCESSES-1) the request lands on. */
  setup(env: Env): (key: string, proc: number) => void;
}

interface Result {
  readonly defence: string;
  readonly rate: number;
  readonly keys: number;
  readonly recomputesPerPeriod: number;
  readonly stampede: number;
  readonly dbPeak: number;
  readonly meanEarlinessMs: number;
  readonly waited: number;
  readonly requests: number;
}

const writeBack = (env: Env, key: string, ttlMs: number) => (value: number) => {
  const entry = createEntry(value, { now: env.clock.now(), ttlMs, deltaMs: DELTA_MS });
  env.cache.set(key, entry);
  env.written(key, entry);
};

const isServable = (entry: CacheEntry<number> | undefined, now: number) =>
  entry !== undefined && now < entry.expiresAt;

function naive(name: string, jitter: boolean): Defence {
  const ttl = (env: Env) => (jitter ? jitterTtl(TTL_MS, { ratio: 0.1, random: env.random }) : TTL_MS);
  return {
    name,
    ttl,
    setup: (env) => (key) => {
      if (!isServable(env.cache.get(key), env.clock.now())) {
        void env.recompute(key).then(writeBack(env, key, ttl(env)));
      }
    },
  };
}

function singleFlightDefence(): Defence {
  return {
    name: 'single-flight (per process)',
    setup: (env) => {
      const groups = Array.from({ length: PROCESSES }, () => createSingleFlight<number>());
      return (key, proc) => {
        if (isServable(env.cache.get(key), env.clock.now())) return;
        void (groups[proc] ?? (groups[0] as never))
          .run(key, async () => {
            const value = await env.recompute(key);
            writeBack(env, key, TTL_MS)(value);
            return value;
          })
          .catch(() => {});
      };
    },
  };
}

function xfetch(beta: number): Defence {
  return {
    name: `XFetch β=${beta}`,
    setup: (env) => {
      // Pure XFetch as in the paper: every read decides on its own, no coalescing.
      const policy = createReadPolicy({ beta, random: () => 1 - env.random() });
      return (key) => {
        const decision = policy(env.cache.get(key), env.clock.now());
        if (decision === 'miss' || decision === 'refresh-early') {
          void env.recompute(key).then(writeBack(env, key, TTL_MS));
        }
      };
    },
  };
}

function leaseDefence(): Defence {
  return {
    name: 'lease (shared store, 3 processes)',
    setup: (env) => {
      const inner = createMemoryLeaseStore<number>({ clock: env.clock, leaseTtlMs: 5_000 });
      const leases: LeaseStore<number> = {
        ...inner,
        async fill(token, entry) {
          const ok = await inner.fill(token, entry);
          if (ok) {
            env.cache.set(token.key, entry);
            env.written(token.key, entry);
          }
          return ok;
        },
      };
      for (const [key, entry] of env.cache) void inner.set(key, entry);
      const loaders = Array.from({ length: PROCESSES }, () =>
        createLeasedLoader<number>({
          leases,
          clock: env.clock,
          ttlMs: TTL_MS,
          retryMs: 50,
          maxWaitMs: 2_000,
        }),
      );
      return (key, proc) => {
        void (loaders[proc] ?? (loaders[0] as never))
          .getOrLoad(key, () => env.recompute(key))
          .catch(() => {});
      };
    },
  };
}

function swrDefence(): Defence {
  return {
    name: 'stale-while-revalidate + XFetch β=1 (per process)',
    setup: (env) => {
      const readers = Array.from({ length: PROCESSES }, () =>
        createStaleWhileRevalidate<number>({
          store: env.store,
          clock: env.clock,
          ttlMs: TTL_MS,
          beta: 1,
          random: env.random,
        }),
      );
      return (key, proc) => {
        void (readers[proc] ?? (readers[0] as never))
          .getOrLoad(key, () => env.recompute(key))
          .catch(() => {});
      };
    },
  };
}

const DEFENCES: readonly Defence[] = [
  naive('none', false),
  singleFlightDefence(),
  xfetch(0.5),
  xfetch(1),
  xfetch(2),
  naive('jitter ±10%', true),
  leaseDefence(),
  swrDefence(),
];

async function simulate(defence: Defence, rate: number, keyCount: number, periods: number): Promise<Result> {
  const clock = createSimClock();
  const random = seededRandom(SEED);
  const keys = Array.from({ length: keyCount }, (_, i) => `key:${i}`);
  const keyIndex = new Map(keys.map((k, i) => [k, i]));
  const cache = new Map<string, CacheEntry<number>>();
  const staleAt = new Float64Array(keyCount);
  const activePerKey = new Int32Array(keyCount);
  let active = 0;
  let dbPeak = 0;
  let stampede = 0;
  let recomputes = 0;
  let earlinessSum = 0;
  let version = 0;

  const store: CacheStore<number> & SyncCacheStore<number> = {
    name: 'sim',
    get: async (key) => store.getSync(key),
    set: async (key, entry) => store.setSync(key, entry),
    delete: async (key) => cache.delete(key),
    clear: async () => cache.clear(),
    close: async () => {},
    getMany: async (ks) => ks.map((k) => store.getSync(k)),
    setMany: async (entries) => {
      for (const [k, e] of entries) store.setSync(k, e);
    },
    deleteMany: async (ks) => ks.filter((k) => cache.delete(k)).length,
    getSync(key) {
      const entry = cache.get(key);
      return entry !== undefined && clock.now() < entry.expiresAt ? entry : undefined;
    },
    setSync(key, entry) {
      cache.set(key, entry);
      env.written(key, entry);
    },
    deleteSync: (key) => cache.delete(key),
  };

  const env: Env = {
    clock,
    random,
    keys,
    cache,
    store,
    written(key, entry) {
      staleAt[keyIndex.get(key) as number] = entry.staleAt;
    },
    recompute(key) {
      const i = keyIndex.get(key) as number;
      recomputes++;
      earlinessSum += (staleAt[i] as number) - clock.now();
      active++;
      activePerKey[i] = (activePerKey[i] as number) + 1;
      if (active > dbPeak) dbPeak = active;
      if ((activePerKey[i] as number) > stampede) stampede = activePerKey[i] as number;
      return new Promise<number>((resolve) =>
        clock.setTimer(() => {
          active--;
          activePerKey[i] = (activePerKey[i] as number) - 1;
          resolve(++version);
        }, DELTA_MS),
      );
    },
  };

  // Warm start: every key written at t = 0 with the defence's TTL.
  for (const key of keys) {
    const ttlMs = defence.ttl ? defence.ttl(env) : TTL_MS;
    const entry = createEntry(0, { now: 0, ttlMs, deltaMs: DELTA_MS });
    cache.set(key, entry);
    env.written(key, entry);
  }
  const handle = defence.setup(env);
  const arrivals = seededRandom(SEED + 1);
  // Measure over [TTL/2, TTL/2 + periods * TTL): exactly `periods` expiries of the warm value's
  // generations fall inside, so "per TTL period" means "per expiry".
  const startAt = TTL_MS / 2;
  const end = startAt + periods * TTL_MS;
  let t = startAt;
  let requests = 0;
  let waited = 0;
  for (;;) {
    t += (-Math.log(1 - arrivals()) / rate) * 1_000;
    if (t >= end) break;
    await clock.runUntil(t);
    const key = keys[keyCount === 1 ? 0 : Math.floor(arrivals() * keyCount)] as string;
    const proc = Math.floor(arrivals() * PROCESSES);
    requests++;
    if (!isServable(cache.get(key), t)) waited++;
    handle(key, proc);
  }
  return {
    defence: defence.name,
    rate,
    keys: keyCount,
    recomputesPerPeriod: recomputes / keyCount / periods,
    stampede,
    dbPeak,
    meanEarlinessMs: recomputes === 0 ? 0 : earlinessSum / recomputes,
    waited,
    requests,
  };
}

function formatRate(rate: number): string {
  return rate >= 1_000 ? `${rate / 1_000}k` : String(rate);
}

function printTable(title: string, rows: readonly Result[]): void {
  console.log(`\n### ${title}\n`);
  console.log(
    '| defence | req/s | recomputes / key / TTL period | stampede size (max concurrent per key) | peak concurrent (all keys) | mean earliness (ms) | callers that waited |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(
      `| ${r.defence} | ${formatRate(r.rate)} | ${r.recomputesPerPeriod.toFixed(2)} | ${r.stampede} | ${r.dbPeak} | ${r.meanEarlinessMs.toFixed(0)} | ${r.waited} of ${r.requests} |`,
    );
  }
}

/** A grouped bar chart (log scale) of stampede size per defence and rate. */
function renderSvg(rows: readonly Result[], rates: readonly number[]): string {
  const names = [...new Set(rows.map((r) => r.defence))];
  const colors = ['#4c78a8', '#f58518', '#54a24b'];
  const width = 900;
  const rowH = 16 * rates.length + 14;
  const left = 330;
  const top = 50;
  const height = top + names.length * rowH + 40;
  const maxLog = Math.log10(Math.max(...rows.map((r) => r.stampede), 10));
  const x = (v: number) => left + ((width - left - 60) * Math.log10(Math.max(1, v))) / maxLog;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="20" font-size="15" font-weight="bold">Stampede size (max concurrent recomputes of one key), log scale</text>`,
    `<text x="10" y="38" fill="#555">TTL 10 s, Δ = 200 ms, Poisson arrivals over 3 processes, virtual clock</text>`,
  ];
  names.forEach((name, n) => {
    const y0 = top + n * rowH;
    parts.push(`<text x="${left - 8}" y="${y0 + rowH / 2}" text-anchor="end">${name}</text>`);
    rates.forEach((rate, j) => {
      const r = rows.find((row) => row.defence === name && row.rate === rate);
      if (!r) return;
      const y = y0 + j * 16;
      parts.push(
        `<rect x="${left}" y="${y}" width="${Math.max(2, x(r.stampede) - left).toFixed(1)}" height="13" fill="${colors[j % colors.length]}"/>`,
        `<text x="${(Math.max(2, x(r.stampede) - left) + left + 4).toFixed(1)}" y="${y + 11}">${r.stampede}</text>`,
      );
    });
  });
  const ly = height - 18;
  rates.forEach((rate, j) => {
    parts.push(
      `<rect x="${left + j * 110}" y="${ly - 10}" width="12" height="12" fill="${colors[j % colors.length]}"/>`,
      `<text x="${left + j * 110 + 16}" y="${ly}">${formatRate(rate)} req/s</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}

async function main(): Promise<void> {
  const rates = [10, 1_000, 100_000];
  const periodsFor = (rate: number) => (rate <= 10 ? 30 : rate <= 1_000 ? 10 : 3);
  const single: Result[] = [];
  for (const defence of DEFENCES) {
    for (const rate of rates) single.push(await simulate(defence, rate, 1, periodsFor(rate)));
  }
  printTable('One hot key (TTL 10 s, Δ 200 ms, 3 processes)', single);

  const manyKeys = 1_000;
  const many: Result[] = [];
  for (const defence of DEFENCES) many.push(await simulate(defence, 100_000, manyKeys, 3));
  printTable(`${manyKeys} keys written together at t = 0, uniform reads at 100k req/s`, many);

  const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'results', 'stampede.svg');
  writeFileSync(out, renderSvg(single, rates));
  console.log(`\nchart: ${out}`);
}

await main();
