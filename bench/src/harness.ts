/**
 * A small, dependency-free ops/s harness shared by every benchmark here. Each candidate runs in
 * the same process, interleaved round by round, so machine noise hits all of them alike; the
 * median of the rounds is reported and ratios are taken against a named baseline.
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
  const medians = samples.map(median);
  const baselineIndex = Math.max(
    0,
    candidates.findIndex((c) => c.name === options.baseline),
  );
  const base = medians[baselineIndex] as number;
  return candidates.map((c, i) => ({
    name: c.name,
    opsPerSec: medians[i] as number,
    ratio: (medians[i] as number) / base,
  }));
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
