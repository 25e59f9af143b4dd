/**
 * @dc/strategies: write latency (p50/p99) and throughput of cache-aside, write-through and
 * write-behind over an in-memory `CacheStore` and a SQLite data source (better-sqlite3), and
 * write-behind flush throughput with batching (`saveMany` in one transaction) vs one-by-one.
 *
 * No other Node library offers write-through or write-behind, so the baselines are the raw
 * operations a user would otherwise hand-roll: a bare SQLite upsert and a bare cache set.
 * Candidates run interleaved round by round in one process; medians of the rounds are reported.
 *
 * Run: pnpm --filter @dc/core build && pnpm --filter @dc/strategies build && pnpm --filter @dc/bench strategies
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CacheEntry, CacheStore, DataSource } from '@dc/core';
import { createEntry, defineStore, systemClock } from '@dc/core';
import { createCacheAside, createWriteBehind, createWriteThrough } from '@dc/strategies';
import { seededRandom } from './harness';

interface Statement<P extends unknown[], R> {
  get(...params: P): R | undefined;
  run(...params: P): unknown;
}
interface SqliteDatabase {
  pragma(source: string): unknown;
  exec(source: string): void;
  prepare<P extends unknown[], R = unknown>(source: string): Statement<P, R>;
  transaction<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void;
  close(): void;
}
// The bench package has no @types/better-sqlite3; load it through require and describe the
// members used here.
const Database = createRequire(import.meta.url)('better-sqlite3') as new (path: string) => SqliteDatabase;

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const WRITES_PER_ROUND = Number(process.env.BENCH_WRITES ?? 5_000);
const FLUSH_ENTRIES = Number(process.env.BENCH_FLUSH_ENTRIES ?? 5_000);
// One-by-one on a file database pays one fsync'd commit per entry: fewer entries keep it short.
const FILE_FLUSH_ENTRIES = Number(process.env.BENCH_FILE_FLUSH_ENTRIES ?? 2_000);
const KEYS = 10_000;

function memoryStore(): CacheStore<string> {
  const map = new Map<string, CacheEntry<string>>();
  return defineStore<string>({
    name: 'bench-memory',
    get: async (key) => map.get(key),
    set: async (key, entry) => void map.set(key, entry),
    delete: async (key) => map.delete(key),
    clear: async () => map.clear(),
  });
}

interface SqliteSource extends DataSource<string> {
  close(): void;
}

/** A SQLite-backed data source; `file` databases pay a real commit per autocommitted write. */
function sqliteSource(path: string, batch: boolean): SqliteSource {
  const db = new Database(path);
  if (path !== ':memory:') {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
  }
  db.exec('CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v TEXT NOT NULL)');
  const select = db.prepare<[string], { v: string }>('SELECT v FROM kv WHERE k = ?');
  const upsert = db.prepare<[string, string]>(
    'INSERT INTO kv (k, v) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v',
  );
  const remove = db.prepare<[string]>('DELETE FROM kv WHERE k = ?');
  const upsertMany = db.transaction((entries: ReadonlyArray<readonly [string, string]>) => {
    for (const [k, v] of entries) upsert.run(k, v);
  });
  const removeMany = db.transaction((keys: readonly string[]) => {
    for (const k of keys) remove.run(k);
  });
  const source: SqliteSource = {
    load: async (key) => select.get(key)?.v,
    save: async (key, value) => void upsert.run(key, value),
    delete: async (key) => void remove.run(key),
    close: () => db.close(),
  };
  if (batch) {
    source.saveMany = async (entries) => upsertMany(entries);
    source.deleteMany = async (keys) => removeMany(keys);
  }
  return source;
}

interface LatencyCandidate {
  readonly name: string;
  readonly write: (key: string, value: string) => Promise<unknown>;
  readonly samples: number[];
  readonly throughput: number[];
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

function fmtUs(ns: number): string {
  return `${(ns / 1_000).toFixed(1)} µs`;
}

function fmtOps(ops: number): string {
  return ops >= 1e6
    ? `${(ops / 1e6).toFixed(2)}M`
    : ops >= 1e3
      ? `${(ops / 1e3).toFixed(1)}k`
      : ops.toFixed(0);
}

async function writeLatency(sourceKind: 'memory' | 'file', dir: string): Promise<void> {
  const path = (name: string) => (sourceKind === 'memory' ? ':memory:' : join(dir, `${name}.db`));
  const random = seededRandom(20261127);
  const keys = Array.from({ length: WRITES_PER_ROUND * ROUNDS }, () => `user:${Math.floor(random() * KEYS)}`);

  const rawSource = sqliteSource(path('raw'), true);
  const asideSource = sqliteSource(path('aside'), true);
  const throughSource = sqliteSource(path('through'), true);
  const behindSource = sqliteSource(path('behind'), true);
  const rawStore = memoryStore();
  const aside = createCacheAside({ store: memoryStore(), dataSource: asideSource, ttlMs: 60_000 });
  const through = createWriteThrough({ store: memoryStore(), dataSource: throughSource, ttlMs: 60_000 });
  const behind = createWriteBehind({
    store: memoryStore(),
    dataSource: behindSource,
    ttlMs: 60_000,
    batchSize: 100,
    flushIntervalMs: 20,
    maxQueueSize: 1_000_000,
  });

  const candidates: LatencyCandidate[] = [
    {
      name: 'raw SQLite upsert (baseline)',
      write: (k, v) => rawSource.save(k, v),
      samples: [],
      throughput: [],
    },
    {
      name: 'raw cache set',
      write: (k, v) => rawStore.set(k, createEntry(v, { now: systemClock.now(), ttlMs: 60_000 })),
      samples: [],
      throughput: [],
    },
    {
      name: 'cache-aside write (save + invalidate)',
      write: async (k, v) => {
        await asideSource.save(k, v);
        await aside.invalidate(k);
      },
      samples: [],
      throughput: [],
    },
    { name: 'write-through set', write: (k, v) => through.set(k, v), samples: [], throughput: [] },
    {
      name: 'write-behind set (flusher running)',
      write: (k, v) => behind.set(k, v),
      samples: [],
      throughput: [],
    },
  ];

  // Warm-up, then interleaved rounds.
  for (const c of candidates) for (let i = 0; i < 500; i++) await c.write(`warm:${i}`, 'w');
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of candidates) {
      const start = process.hrtime.bigint();
      for (let i = 0; i < WRITES_PER_ROUND; i++) {
        const t0 = process.hrtime.bigint();
        await c.write(keys[round * WRITES_PER_ROUND + i] as string, `v${round}:${i}`);
        c.samples.push(Number(process.hrtime.bigint() - t0));
      }
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      c.throughput.push(WRITES_PER_ROUND / seconds);
    }
  }
  const report = await behind.close({ timeoutMs: 30_000 });

  const label = sourceKind === 'memory' ? 'SQLite `:memory:`' : 'SQLite file (WAL, synchronous=FULL)';
  console.log(`\n### Write latency and throughput — in-memory store + ${label}\n`);
  console.log('| candidate | p50 | p99 | writes/s | vs raw SQLite |');
  console.log('|---|---:|---:|---:|---:|');
  const base = median(candidates[0]?.throughput ?? [1]);
  for (const c of candidates) {
    const sorted = [...c.samples].sort((a, b) => a - b);
    const ops = median(c.throughput);
    console.log(
      `| ${c.name} | ${fmtUs(percentile(sorted, 0.5))} | ${fmtUs(percentile(sorted, 0.99))} | ${fmtOps(ops)} | ${(ops / base).toFixed(2)}x |`,
    );
  }
  console.log(`\nwrite-behind close(): flushed ${report.flushed}, remaining ${report.remaining}`);
  for (const s of [rawSource, asideSource, throughSource, behindSource]) s.close();
}

async function flushThroughput(sourceKind: 'memory' | 'file', dir: string): Promise<void> {
  const variants = [
    { name: 'one-by-one (batchSize 1, save)', batchSize: 1, batch: false },
    { name: 'batchSize 100, concurrent save per key', batchSize: 100, batch: false },
    { name: 'batchSize 100, saveMany in one transaction', batchSize: 100, batch: true },
    { name: 'batchSize 500, saveMany in one transaction', batchSize: 500, batch: true },
  ];
  const entries = sourceKind === 'memory' ? FLUSH_ENTRIES : FILE_FLUSH_ENTRIES;
  const results = variants.map(() => [] as number[]);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, variant] of variants.entries()) {
      const file = sourceKind === 'memory' ? ':memory:' : join(dir, `flush-${round}-${i}.db`);
      const source = sqliteSource(file, variant.batch);
      const wb = createWriteBehind({
        store: memoryStore(),
        dataSource: source,
        ttlMs: 60_000,
        batchSize: variant.batchSize,
        flushIntervalMs: 3_600_000,
        maxQueueSize: entries,
      });
      for (let k = 0; k < entries; k++) await wb.set(`key:${k}`, `value:${k}`);
      const start = process.hrtime.bigint();
      const report = await wb.flush();
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      if (report.remaining !== 0 || report.flushed !== entries) throw new Error('flush did not drain');
      results[i]?.push(entries / seconds);
      await wb.close();
      source.close();
    }
  }
  const label = sourceKind === 'memory' ? 'SQLite `:memory:`' : 'SQLite file (WAL, synchronous=FULL)';
  console.log(`\n### Write-behind flush throughput — ${entries} distinct keys, ${label}\n`);
  console.log('| variant | entries/s | vs one-by-one |');
  console.log('|---|---:|---:|');
  const base = median(results[0] ?? [1]);
  variants.forEach((variant, i) => {
    const ops = median(results[i] ?? []);
    console.log(`| ${variant.name} | ${fmtOps(ops)} | ${(ops / base).toFixed(2)}x |`);
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'dc-strategies-bench-'));
  try {
    console.log(
      `# @dc/strategies bench — ${ROUNDS} interleaved rounds, ${WRITES_PER_ROUND} writes per round, ${KEYS} keys (medians)`,
    );
    await writeLatency('memory', dir);
    await writeLatency('file', dir);
    await flushThroughput('memory', dir);
    await flushThroughput('file', dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
