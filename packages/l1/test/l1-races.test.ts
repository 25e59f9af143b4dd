/**
 * FAULTS D4 and X7 at the L1: a load racing writes, deletes, expiry and bus messages never
 * leaves an older value in any L1; a flood of distinct keys stays within the budgets.
 */
import type { CacheEntry } from '@dc/core';
import { createManualClock } from '@dc/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { L1Store } from '../src/index';
import { attachInvalidationBus, createInProcessBus, createL1Store } from '../src/index';

const SEED = 4_042_026;
const START = 1_700_000_000_000;

type Op =
  | { kind: 'load'; node: number; key: string }
  | { kind: 'set'; node: number; key: string }
  | { kind: 'delete'; node: number; key: string }
  | { kind: 'expire'; ms: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('load' as const), node: fc.nat(1), key: fc.constantFrom('a', 'b') }),
  fc.record({ kind: fc.constant('set' as const), node: fc.nat(1), key: fc.constantFrom('a', 'b') }),
  fc.record({ kind: fc.constant('delete' as const), node: fc.nat(1), key: fc.constantFrom('a', 'b') }),
  fc.record({ kind: fc.constant('expire' as const), ms: fc.integer({ min: 0, max: 3_000 }) }),
);

describe('createL1Store fillSync (FAULTS D4)', () => {
  it('never holds a value written before the last set or delete, in any interleaving', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.array(opArb, { minLength: 1, maxLength: 8 }), async (s, ops) => {
        const clock = createManualClock(START);
        const bus = createInProcessBus();
        const nodes: L1Store<number>[] = [0, 1].map((i) => {
          const l1 = createL1Store<number>({ clock, defaultTtlMs: 2_000 });
          attachInvalidationBus(l1, bus, { instanceId: `node-${i}` });
          return l1;
        });
        const l2 = new Map<string, number>();
        let version = 0;
        const entry = (value: number): CacheEntry<number> =>
          ({ value, staleAt: clock.now() + 10_000, expiresAt: clock.now() + 10_000 }) as const;
        const coherent = () => {
          for (const l1 of nodes) {
            for (const key of ['a', 'b']) {
              const held = l1.getSync(key);
              if (held !== undefined) expect(held.value, `${key} in an L1`).toBe(l2.get(key));
            }
          }
        };
        const step = () => s.schedule(Promise.resolve());

        const run = async (op: Op): Promise<void> => {
          await step();
          if (op.kind === 'expire') {
            clock.advance(op.ms);
          } else {
            const l1 = nodes[op.node] as L1Store<number>;
            if (op.kind === 'set') {
              const value = ++version;
              l2.set(op.key, value);
              l1.setSync(op.key, entry(value));
            } else if (op.kind === 'delete') {
              l2.delete(op.key);
              l1.deleteSync(op.key);
            } else {
              const token = l1.beginFill();
              const read = await s.scheduleFunction(async () => l2.get(op.key))();
              await step();
              if (read !== undefined) l1.fillSync(op.key, entry(read), token);
            }
          }
          coherent();
        };

        await Promise.all([...ops.map(run), s.waitAll()]);
        await s.waitAll();
        coherent();
        await Promise.all(nodes.map((l1) => l1.close()));
        expect(clock.pendingTimers()).toBe(0);
      }),
      { seed: SEED, numRuns: 1_000 },
    );
  });
});

describe('createL1Store under a key flood (FAULTS X7)', () => {
  it('keeps size and accounted bytes within budget for 1M distinct 1 KiB keys', () => {
    const maxEntries = 10_000;
    const maxBytes = 16 * 1024 * 1024;
    const clock = createManualClock(START);
    const l1 = createL1Store<string>({ clock, maxEntries, maxBytes, defaultTtlMs: 5_000 });
    const value = 'v'.repeat(1024);
    const e: CacheEntry<string> = { value, staleAt: START + 60_000, expiresAt: START + 60_000 };
    let maxSize = 0;
    let maxSeen = 0;
    for (let i = 0; i < 1_000_000; i++) {
      l1.setSync(`tenant:${i}`, e);
      if (l1.size > maxSize) maxSize = l1.size;
      if (l1.bytes > maxSeen) maxSeen = l1.bytes;
    }
    expect(maxSize).toBeLessThanOrEqual(maxEntries);
    expect(maxSeen).toBeLessThanOrEqual(maxBytes);
    expect(l1.getSync('tenant:999999')?.value).toBe(value);
    expect(l1.stats().evictions).toBe(1_000_000 - l1.size);
    void l1.close();
  });
});
