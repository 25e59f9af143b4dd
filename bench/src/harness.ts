import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * A small, dependency-free ops/s harness shared by every benchmark here. Each candidate runs in
 * the same process, interleaved round by round, so machine noise hits all of them alike; the
 * median of the rounds is reported, and each ratio is the median of per-round ratios against a
 * named baseline.
 */

/** One measured candidate. `run(n)` must perform exactly `n` operations. */
export interface Candidate {
  readonly name: string;
  readonly run: (iterations: number) => unknown;
}

/** Options for {@link compare}. */
export interface CompareOptions {
  /** Rounds per candidate; the median is reported. @default 7 */
  rounds?: number;
  /** Target wall time of one round (ms). @default 200 */
  roundMs?: number;
  /** Candidate whose ops/s is the denominator of every ratio. @default the first */
  baseline?: string;
}

/** Result row of {@link compare}. */
export interface CompareRow {
  readonly name: string;
  readonly opsPerSec: number;
  readonly ratio: number;
}

let blackhole: unknown;

/** Keeps a benchmark's result alive so the JIT cannot drop the work. */
export function consume(value: unknown): void {
  blackhole = value;
}

function calibrate(candidate: Candidate, roundMs: number): number {
  let iterations = 1_000;
  for (;;) {
    const start = process.hrtime.bigint();
    consume(candidate.run(iterations));
    const elapsedMs = Number(process.hrtime.bigint() - start) / 1e6;
    if (elapsedMs >= roundMs / 4 || iterations >= 1 << 30) {
      return Math.max(1, Math.round((iterations * roundMs) / Math.max(elapsedMs, 0.001)));
    }
    iterations *= 4;
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/** Measures every candidate and returns ops/s medians with ratios against the baseline. */
export function compare(candidates: readonly Candidate[], options: CompareOptions = {}): CompareRow[] {
  const { rounds = 7, roundMs = 200 } = options;
  const iterations = candidates.map((c) => calibrate(c, roundMs));
  const samples = candidates.map(() => [] as number[]);
  for (let round = 0; round < rounds; round++) {
    candidates.forEach((candidate, i) => {
      const n = iterations[i] as number;
      const start = process.hrtime.bigint();
      consume(candidate.run(n));
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      samples[i]?.push(n / seconds);
    });
  }
  return toRows(candidates, samples, options.baseline);
}

/**
 * Rows from per-round ops/s samples. The ratio is the median of per-round ratios to the
 * baseline: a round where the machine slowed down slows both sides of that round's ratio, so it
 * is steadier than the ratio of the two medians.
 */
function toRows(
  candidates: readonly { name: string }[],
  samples: number[][],
  baseline?: string,
): CompareRow[] {
  const base = samples[
    Math.max(
      0,
      candidates.findIndex((c) => c.name === baseline),
    )
  ] as number[];
  return candidates.map((c, i) => {
    const own = samples[i] as number[];
    return {
      name: c.name,
      opsPerSec: median(own),
      ratio: median(own.map((opsPerSec, round) => opsPerSec / (base[round] as number))),
    };
  });
}

/**
 * A fresh copy of `fn` with type feedback of its own. Candidates that share one loop function
 * share its call sites, which then see every cache class (megamorphic) and slow all of them in a
 * way no application does: in an app a call site sees one cache. Give each candidate
 * `isolate(loop)` instead. `fn` must be self-contained: it reaches nothing outside its
 * parameters (its source is recompiled), and declares no nested named functions.
 */
export function isolate<F extends (...args: never[]) => unknown>(fn: F): F {
  return new Function(`return (${fn.toString()});`)() as F;
}

/** A candidate whose `run(n)` awaits `n` operations (an async cache API). */
export interface AsyncCandidate {
  readonly name: string;
  readonly run: (iterations: number) => Promise<unknown>;
}

/** Options for {@link compareAsync}. */
export interface CompareAsyncOptions extends CompareOptions {
  /**
   * Run a full GC before every measured run, so each candidate pays only for its own garbage
   * (interleaved, one library's garbage is otherwise collected during the next one's round).
   * @default false
   */
  collectGarbage?: boolean;
}

let gc: (() => void) | undefined;

/** Forces a full garbage collection (enables `gc` on first use). */
export function collectGarbage(): void {
  if (gc === undefined) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
}

/** {@link compare} for awaited operations: the same calibration, interleaving and medians. */
export async function compareAsync(
  candidates: readonly AsyncCandidate[],
  options: CompareAsyncOptions = {},
): Promise<CompareRow[]> {
  const { rounds = 7, roundMs = 200, collectGarbage: withGc = false } = options;
  const timeRun = async (candidate: AsyncCandidate, n: number): Promise<number> => {
    if (withGc) collectGarbage();
    const start = process.hrtime.bigint();
    consume(await candidate.run(n));
    return Number(process.hrtime.bigint() - start) / 1e9;
  };
  const iterations: number[] = [];
  for (const candidate of candidates) {
    let n = 1_000;
    for (;;) {
      const elapsedMs = (await timeRun(candidate, n)) * 1e3;
      if (elapsedMs >= roundMs / 4 || n >= 1 << 30) {
        iterations.push(Math.max(1, Math.round((n * roundMs) / Math.max(elapsedMs, 0.001))));
        break;
      }
      n *= 4;
    }
  }
  const samples = candidates.map(() => [] as number[]);
  for (let round = 0; round < rounds; round++) {
    for (const [i, candidate] of candidates.entries()) {
      const n = iterations[i] as number;
      samples[i]?.push(n / (await timeRun(candidate, n)));
    }
  }
  return toRows(candidates, samples, options.baseline);
}

/** The record both cache benchmarks store: a small user object, as an application would cache. */
export function sampleUser(id: number) {
  return {
    id,
    key: `user:${id}`,
    name: `User ${id}`,
    email: `user${id}@example.com`,
    active: id % 2 === 0,
    roles: ['reader', 'writer'],
    createdAt: '2026-01-01T00:00:00.000Z',
  };
}

/** Formats ops/s as `12.3M` / `456k`. */
export function formatOps(opsPerSec: number): string {
  if (opsPerSec >= 1e6) return `${(opsPerSec / 1e6).toFixed(2)}M`;
  if (opsPerSec >= 1e3) return `${(opsPerSec / 1e3).toFixed(1)}k`;
  return opsPerSec.toFixed(0);
}

/** Prints a titled Markdown table of a comparison, ratios against the baseline. */
export function printComparison(title: string, rows: readonly CompareRow[]): void {
  console.log(`\n### ${title}\n`);
  console.log('| candidate | ops/s | ratio |');
  console.log('|---|---:|---:|');
  for (const row of rows)
    console.log(`| ${row.name} | ${formatOps(row.opsPerSec)} | ${row.ratio.toFixed(2)}x |`);
}

// The seeded streams are shared with the tests, so a benchmark replays what a test checks.
export { seededRandom, zipfStream } from '@dc/testkit';

export { blackhole as _blackhole };
