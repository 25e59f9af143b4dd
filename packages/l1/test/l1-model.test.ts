/**
 * Model-based tests (FAULTS D5): random command sequences run against an L1 and a `Map` model
 * on a manual clock. Seed and sizes are fixed so a failure replays exactly.
 */
import type { CacheEntry, ManualClock } from '@dc/core';
import { createManualClock, isDcError } from '@dc/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { L1BackendName, L1Store, L1StoreOptions } from '../src/index';
import { createL1Store, L1_BACKENDS, L1_POLICIES } from '../src/index';

const SEED = 20_261_127;
const RUNS = 1_000;
const START = 1_700_000_000_000;
const KEYS = ['a', 'b', 'c', 'd', 'e', 'f', '__proto__', 'constructor', 'toString', '1', '01'] as const;

interface ModelEntry {
  readonly entry: CacheEntry<string>;
  /** When the L1 drops it: its expiresAt or its write time + defaultTtlMs, whichever is first. */
  readonly deadline: number;
}

interface Model {
  readonly entries: Map<string, ModelEntry>;
  now: number;
}

interface Real {
  readonly l1: L1Store<string>;
  readonly clock: ManualClock;
}

interface Config {
  readonly options: L1StoreOptions<string>;
  /** Without capacity pressure the L1 must agree with the model exactly; with it, a miss is allowed. */
  readonly exact: boolean;
}

type Cmd = fc.Command<Model, Real>;

const live = (model: Model, key: string): ModelEntry | undefined => {
  const found = model.entries.get(key);
  return found && model.now < found.deadline ? found : undefined;
};

function invariants(real: Real, options: L1StoreOptions<string>): void {
  expect(real.l1.size).toBeLessThanOrEqual(options.maxEntries ?? Number.POSITIVE_INFINITY);
  expect(real.l1.bytes).toBeLessThanOrEqual(options.maxBytes ?? Number.POSITIVE_INFINITY);
}

function commands(config: Config): fc.Arbitrary<Cmd>[] {
  const { options, exact } = config;
  const defaultTtlMs = options.defaultTtlMs ?? 2_000;
  const key = fc.constantFrom(...KEYS);
  const value = fc.string({ maxLength: 20 });

  const write = (k: string, v: string, ttlMs: number, graceMs: number, via: 'set' | 'fill'): Cmd => ({
    check: () => true,
    run(model, real) {
      const now = real.clock.now();
      const entry: CacheEntry<string> = { value: v, staleAt: now + ttlMs, expiresAt: now + ttlMs + graceMs };
      if (via === 'set') real.l1.setSync(k, entry);
      else {
        const stored = real.l1.fillSync(k, entry, real.l1.beginFill());
        // Only an admission policy may refuse a fill of a fresh entry.
        if (options.policy !== 'tinylfu') expect(stored).toBe(true);
      }
      model.entries.set(k, { entry, deadline: Math.min(entry.expiresAt, now + defaultTtlMs) });
      invariants(real, options);
    },
    toString: () => `${via}(${JSON.stringify(k)}, ${JSON.stringify(v)}, ${ttlMs}+${graceMs})`,
  });

  return [
    fc
      .tuple(key, value, fc.integer({ min: 1_000, max: 20_000 }), fc.integer({ min: 0, max: 5_000 }))
      .map(([k, v, ttl, grace]) => write(k, v, ttl, grace, 'set')),
    fc
      .tuple(key, value, fc.integer({ min: 1_000, max: 20_000 }))
      .map(([k, v, ttl]) => write(k, v, ttl, 0, 'fill')),
    key.map(
      (k): Cmd => ({
        check: () => true,
        run(model, real) {
          const got = real.l1.getSync(k);
          const expected = live(model, k);
          if (got !== undefined) {
            expect(real.clock.now()).toBeLessThan(got.expiresAt);
            expect(expected, `hit on ${k} the model does not hold`).toBeDefined();
            expect(got.value).toBe(expected?.entry.value);
            expect(got.expiresAt).toBe(expected?.entry.expiresAt);
          } else if (exact) {
            expect(expected, `miss on ${k} the model holds`).toBeUndefined();
          }
          invariants(real, options);
        },
        toString: () => `get(${JSON.stringify(k)})`,
      }),
    ),
    key.map(
      (k): Cmd => ({
        check: () => true,
        run(model, real) {
          const removed = real.l1.deleteSync(k);
          if (exact) expect(removed).toBe(live(model, k) !== undefined);
          model.entries.delete(k);
          expect(real.l1.getSync(k)).toBeUndefined();
        },
        toString: () => `delete(${JSON.stringify(k)})`,
      }),
    ),
    fc.constant<Cmd>({
      check: () => true,
      run(model, real) {
        real.l1.clearSync();
        model.entries.clear();
        expect(real.l1.size).toBe(0);
      },
      toString: () => 'clear()',
    }),
    fc.integer({ min: 0, max: 3_000 }).map(
      (ms): Cmd => ({
        check: () => true,
        run(model, real) {
          real.clock.advance(ms);
          model.now += ms;
          invariants(real, options);
        },
        toString: () => `advance(${ms})`,
      }),
    ),
    // Small steps land reads within a few ms of a deadline, where a reused clock reading matters.
    fc.integer({ min: 0, max: 40 }).map(
      (ms): Cmd => ({
        check: () => true,
        run(model, real) {
          real.clock.advance(ms);
          model.now += ms;
        },
        toString: () => `step(${ms})`,
      }),
    ),
    key.map(
      (k): Cmd => ({
        check: () => true,
        run(model, real) {
          // Larger than the byte budget: refused, the previous entry of the key removed.
          const now = real.clock.now();
          let error: unknown;
          try {
            real.l1.setSync(k, { value: 'x'.repeat(400_000), staleAt: now + 5_000, expiresAt: now + 5_000 });
          } catch (e) {
            error = e;
          }
          expect(isDcError(error, 'E_CAPACITY')).toBe(true);
          model.entries.delete(k);
          invariants(real, options);
        },
        toString: () => `setTooBig(${JSON.stringify(k)})`,
      }),
    ),
    fc.constant<Cmd>({
      check: () => true,
      run(_model, real) {
        let error: unknown;
        try {
          real.l1.getSync('');
        } catch (e) {
          error = e;
        }
        expect(isDcError(error, 'E_INVALID_KEY')).toBe(true);
      },
      toString: () => "get('')",
    }),
  ];
}

function runModel(backend: L1BackendName, config: Config): void {
  fc.assert(
    fc.property(fc.commands(commands(config), { maxCommands: 100 }), (cmds) => {
      const clock = createManualClock(START);
      const l1 = createL1Store<string>({ ...config.options, backend, clock });
      const model: Model = { entries: new Map(), now: START };
      fc.modelRun(() => ({ model, real: { l1, clock } }), cmds);
      void l1.close();
      expect(clock.pendingTimers()).toBe(0);
    }),
    { seed: SEED, numRuns: RUNS },
  );
}

describe.each(L1_BACKENDS)('createL1Store model (backend %s)', (backend) => {
  it('agrees with a Map model exactly when nothing needs evicting', () => {
    runModel(backend, {
      exact: true,
      options: { defaultTtlMs: 5_000, maxEntries: 64, maxBytes: 64 * 1024 },
    });
  });

  it('stays within maxEntries and maxBytes and never returns a wrong or expired entry under pressure', () => {
    runModel(backend, {
      exact: false,
      options: { defaultTtlMs: 5_000, maxEntries: 4, maxBytes: 600 },
    });
  });
});

describe('createL1Store model (memory backend, clockResolutionMs 5)', () => {
  it('agrees with a Map model exactly while it reuses clock readings', () => {
    runModel('memory', {
      exact: true,
      options: { defaultTtlMs: 5_000, maxEntries: 64, maxBytes: 64 * 1024, clockResolutionMs: 5 },
    });
  });
});

describe("createL1Store model (memory backend, keyIndex 'object')", () => {
  it('agrees with a Map model exactly when nothing needs evicting', () => {
    runModel('memory', {
      exact: true,
      options: { keyIndex: 'object', defaultTtlMs: 5_000, maxEntries: 64, maxBytes: 64 * 1024 },
    });
  });

  it('stays within budget and never returns a wrong or expired entry under pressure', () => {
    runModel('memory', {
      exact: false,
      options: { keyIndex: 'object', defaultTtlMs: 5_000, maxEntries: 4, maxBytes: 600 },
    });
  });
});

describe.each(L1_POLICIES.filter((p) => p !== 'lru'))(
  'createL1Store model (memory backend, policy %s)',
  (policy) => {
    it('stays within budget and never returns a wrong or expired entry', () => {
      runModel('memory', {
        exact: false,
        options: { policy, defaultTtlMs: 5_000, maxEntries: 4, maxBytes: 600 },
      });
    });
  },
);
