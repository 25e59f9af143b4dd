import { createEntry, createManualClock, isDcError } from '@dc/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createLeasedLoader, createMemoryLeaseStore, type LeaseStore } from '../src/index';
import { countUnhandledRejections, delay } from './helpers';

/** Recorded seed of the interleaving property (fast-check 4). */
const PROPERTY_SEED = 20_261_127;

function twoProcesses() {
  const clock = createManualClock(100_000);
  const leases = createMemoryLeaseStore<string>({ clock, leaseTtlMs: 5_000 });
  const options = { leases, clock, ttlMs: 10_000, retryMs: 50, maxWaitMs: 2_000 };
  return { clock, leases, a: createLeasedLoader(options), b: createLeasedLoader(options) };
}

describe('createLeasedLoader', () => {
  it('runs one load across two processes with 1,000 callers each; the other process gets the fill', async () => {
    const { clock, a, b } = twoProcesses();
    let calls = 0;
    const loader = async () => {
      calls++;
      await delay(clock, 300);
      return 'filled';
    };
    const all = Promise.all([
      ...Array.from({ length: 1_000 }, () => a.getOrLoad('k', loader)),
      ...Array.from({ length: 1_000 }, () => b.getOrLoad('k', loader)),
    ]);
    await clock.advanceAsync(400);
    expect(new Set(await all)).toEqual(new Set(['filled']));
    expect(calls).toBe(1);
    expect(a.inFlightCount() + b.inFlightCount()).toBe(0);
  });

  it('rejects the late fill when delete happens during the load, so the next read loads again', async () => {
    const clock = createManualClock(1_000);
    const leases = createMemoryLeaseStore<string>({ clock });
    const reader = createLeasedLoader({ leases, clock, ttlMs: 10_000 });
    let version = 1;
    const loader = async () => {
      const read = `v${version}`;
      await delay(clock, 300);
      return read;
    };
    const pending = reader.getOrLoad('k', loader);
    await clock.advanceAsync(100);
    version = 2;
    await leases.delete('k');
    await clock.advanceAsync(200);
    await expect(pending).resolves.toBe('v1');
    expect(reader.stats().rejectedFills).toBe(1);
    const next = await leases.get('k');
    expect(next.status).toBe('lease');
    expect(next.status === 'lease' && next.stale).toBeUndefined();
  });

  it('answers with the stale value while another process holds the lease', async () => {
    const { clock, leases, a, b } = twoProcesses();
    await leases.set(
      'k',
      createEntry('stale', { now: clock.now() - 20_000, ttlMs: 10_000, graceMs: 60_000 }),
    );
    const slow = async () => {
      await delay(clock, 300);
      return 'new';
    };
    const first = a.getOrLoad('k', slow);
    await clock.advanceAsync(0);
    await expect(b.getOrLoad('k', slow)).resolves.toBe('stale');
    expect(b.stats().staleServed).toBe(1);
    await clock.advanceAsync(300);
    await expect(first).resolves.toBe('new');
  });

  it('loads without filling once maxWaitMs runs out', async () => {
    const clock = createManualClock(1_000);
    const leases = createMemoryLeaseStore<string>({ clock, leaseTtlMs: 60_000 });
    await leases.get('k');
    const reader = createLeasedLoader({ leases, clock, ttlMs: 10_000, retryMs: 50, maxWaitMs: 200 });
    const value = reader.getOrLoad('k', async () => 'direct');
    await clock.advanceAsync(200);
    await expect(value).resolves.toBe('direct');
    expect((await leases.get('k')).status).toBe('wait');
  });

  it('releases the lease when the loader throws, rejects every caller, and the next call retries', async () => {
    const { clock, leases, a } = twoProcesses();
    const boom = new Error('db');
    const unhandled = await countUnhandledRejections(async () => {
      const settled = Promise.allSettled(
        Array.from({ length: 100 }, () =>
          a.getOrLoad('k', async () => {
            await delay(clock, 10);
            throw boom;
          }),
        ),
      );
      await clock.advanceAsync(10);
      expect((await settled).every((r) => r.status === 'rejected' && r.reason === boom)).toBe(true);
    });
    expect(unhandled).toBe(0);
    expect((await leases.get('k')).status).toBe('lease');
  });

  it('rejects bad options with E_INVALID_OPTION', () => {
    const leases = createMemoryLeaseStore<string>();
    for (const bad of [
      { ttlMs: 0 },
      { ttlMs: 1, retryMs: 0 },
      { ttlMs: 1, maxWaitMs: -1 },
      { ttlMs: 1, leaseTtlMs: Number.NaN },
    ]) {
      let error: unknown;
      try {
        createLeasedLoader({ leases, ...bad });
      } catch (e) {
        error = e;
      }
      expect(isDcError(error, 'E_INVALID_OPTION')).toBe(true);
    }
  });

  describe('interleavings of load, set, delete, lease expiry and reads (FAULTS D4)', () => {
    type Op = 'load' | 'set' | 'delete' | 'expire' | 'read';
    const ops = fc.array(fc.constantFrom<Op>('load', 'load', 'set', 'delete', 'expire', 'read'), {
      minLength: 1,
      maxLength: 8,
    });

    /** The cache must only ever hold the data source's current version (or nothing). */
    const property = (wrap: (store: LeaseStore<number>) => LeaseStore<number>) =>
      fc.asyncProperty(fc.scheduler(), ops, async (s, plan) => {
        const clock = createManualClock(0);
        const leases = wrap(createMemoryLeaseStore<number>({ clock, leaseTtlMs: 1_000 }));
        let db = 0;
        let violations = 0;
        const checkServed = (value: number | undefined) => {
          if (value !== undefined && value !== db) violations++;
        };
        const entry = (value: number) => createEntry(value, { now: clock.now(), ttlMs: 100_000 });
        const loader = async () => {
          await s.schedule(Promise.resolve('db read'));
          const read = db;
          await s.schedule(Promise.resolve('db answered'));
          return read;
        };
        const run = async (op: Op) => {
          if (op === 'load') {
            const proc = createLeasedLoader({ leases, clock, ttlMs: 100_000, maxWaitMs: 0 });
            await proc.getOrLoad('k', loader);
          } else if (op === 'set') {
            db++;
            await leases.set('k', entry(db));
          } else if (op === 'delete') {
            db++;
            await leases.delete('k');
          } else if (op === 'expire') {
            clock.advance(1_001);
          } else {
            const read = await leases.get('k');
            if (read.status === 'hit') checkServed(read.entry.value);
            else checkServed(read.stale?.value);
            if (read.status === 'lease') await leases.release(read.token);
          }
        };
        const done = Promise.all(plan.map((op) => s.schedule(Promise.resolve(op)).then(run)));
        await s.waitFor(done);
        const final = await leases.get('k');
        if (final.status === 'hit') checkServed(final.entry.value);
        return violations === 0;
      });

    it('never serves a value read before the last delete or set (1,000 runs, fixed seed)', async () => {
      await fc.assert(
        property((store) => store),
        { numRuns: 1_000, seed: PROPERTY_SEED },
      );
    });

    it('catches a store that ignores voided leases (the property can fail)', async () => {
      const ignoringVoids = (store: LeaseStore<number>): LeaseStore<number> => ({
        ...store,
        fill: async (token, value) => {
          await store.set(token.key, value);
          return true;
        },
      });
      const result = await fc.check(property(ignoringVoids), { numRuns: 1_000, seed: PROPERTY_SEED });
      expect(result.failed).toBe(true);
    });
  });
});
