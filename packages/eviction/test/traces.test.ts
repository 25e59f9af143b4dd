/**
 * Replays the real traces in ../shared/data/traces (every access a `get`, a miss `set`s the key,
 * capacity in entries). In `pnpm test`: LRU exactness on every LIRS trace, cache2k web07/web12
 * and arc-oltp; the OPT bound for every policy on the LIRS and web traces; the W-TinyLFU goals
 * that hold. The two 5M-access cache2k ORM traces and the full policy x capacity grid run in
 * `pnpm --filter @dc/bench hit-ratio`.
 */
import { hasXz, loadTraceReference, readTrace, replayTrace, seededRandom, traceKeys } from '@dc/testkit';
import { describe, expect, it } from 'vitest';
import type { EvictionPolicy } from '../src/index';
import { createMemoryStore } from '../src/index';

const reference = loadTraceReference();
const cache = new Map<string, string[]>();
function keysOf(file: string): string[] {
  let keys = cache.get(file);
  if (keys === undefined) {
    keys = traceKeys(readTrace(file));
    cache.set(file, keys);
  }
  return keys;
}

function hitsOf(policy: EvictionPolicy, file: string, capacity: number): number {
  const store = createMemoryStore<number>({
    maxEntries: capacity,
    policy,
    activeExpiry: false,
    // The bench's generator and seed, so these replays are the README's numbers.
    random: seededRandom(12345),
  });
  return replayTrace(store, keysOf(file));
}

const lirs = Object.keys(reference).filter((f) => f.startsWith('lirs-'));
const web = hasXz() ? ['cache2k-web07.trace.xz', 'cache2k-web12.trace.xz'] : [];
const lruFiles = [...lirs, ...web, 'arc-oltp.trc.bin.gz'];

describe('readTrace', () => {
  it.each(Object.keys(reference).filter((f) => hasXz() || !f.endsWith('.xz')))(
    'reads %s with the documented access count',
    (file) => {
      if (file.includes('orm-')) return; // 5M accesses: covered by the bench
      expect(keysOf(file).length).toBe(reference[file]!.accesses);
    },
  );
});

describe("policy 'lru' on real traces", () => {
  it.each(lruFiles)('reproduces every reference LRU hit count of %s to the hit', (file) => {
    for (const row of reference[file]!.rows)
      expect([row.size, hitsOf('lru', file, row.size)]).toEqual([row.size, row.LRU]);
  });
});

describe('every policy on real traces', () => {
  // lirs-loop is 0.5M accesses per replay: its OPT check runs at 500 entries in the goal test.
  it.each([...lirs.filter((f) => f !== 'lirs-loop.trace.gz'), ...web])('never beats OPT on %s', (file) => {
    for (const policy of ['lfu', 'sieve', 'tinylfu'] as const) {
      for (const row of reference[file]!.rows) {
        const hits = hitsOf(policy, file, row.size);
        expect(hits, `${policy} at ${row.size}`).toBeLessThanOrEqual(row.OPT);
      }
    }
  });
});

describe("policy 'tinylfu' goals", () => {
  it('keeps at least 40% hits on lirs-loop at 500 entries, where LRU and ARC get 0%', () => {
    const { accesses, rows } = reference['lirs-loop.trace.gz']!;
    const hits = hitsOf('tinylfu', 'lirs-loop.trace.gz', 500);
    expect(hits / accesses).toBeGreaterThanOrEqual(0.4);
    expect(hits).toBeLessThanOrEqual(rows.find((r) => r.size === 500)!.OPT);
  });

  // The rows where W-TinyLFU reaches ARC's hit count in the bench (same seeded admission jitter,
  // so the same replay). Not met, reported in the README: lirs-sprite@400, @600 and @1000,
  // cache2k-web07@2000 and @5000.
  const goalRows: ReadonlyArray<readonly [string, readonly number[]]> = [
    ['lirs-multi2.trace.gz', [100, 500, 1000, 1800, 3000]],
    ['lirs-sprite.trace.gz', [100, 200]],
    ['arc-oltp.trc.bin.gz', [1000, 2000, 5000, 10000, 15000]],
    ...(hasXz() ? [['cache2k-web07.trace.xz', [100, 500, 1000]] as const] : []),
  ];
  it.each(goalRows)('reaches ARC on %s at the capacities where the goal is met', (file, sizes) => {
    for (const row of reference[file]!.rows.filter((r) => sizes.includes(r.size))) {
      const hits = hitsOf('tinylfu', file, row.size);
      expect(hits, `at ${row.size}`).toBeGreaterThanOrEqual(row.ARC);
      expect(hits, `at ${row.size}`).toBeLessThanOrEqual(row.OPT);
    }
  });
});
