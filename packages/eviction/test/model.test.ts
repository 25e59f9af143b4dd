/**
 * Model-based tests (fast-check commands): the store against a `Map` model on a manual clock.
 * Evictions are policy-dependent, so the model learns them from `'evict'` events; everything
 * else it predicts exactly. Invariants after every command: size <= maxEntries, accounted bytes
 * <= maxBytes and equal to the model's, no value returned at or past its expiry, and no timer
 * left after `close()`.
 */
import type { ManualClock } from '@dc/core';
import { createManualClock, isDcError } from '@dc/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EvictionMode, EvictionPolicy, MemoryStore } from '../src/index';
import { createMemoryStore } from '../src/index';

interface ModelEntry {
  value: number;
  expiresAt: number;
  size: number;
}

interface Model {
  entries: Map<string, ModelEntry>;
  clock: ManualClock;
  maxEntries: number;
  maxBytes: number;
}

type Real = MemoryStore<number>;

const KEYS = ['a', 'b', 'c', 'd', 'e', 'f', '1', '01', '', '__proto__', 'constructor', 'toString'];

function live(model: Model, key: string): ModelEntry | undefined {
  const entry = model.entries.get(key);
  if (entry === undefined) return undefined;
  return entry.expiresAt > model.clock.now() ? entry : undefined;
}

function checkInvariants(model: Model, real: Real): void {
  expect(real.size).toBeLessThanOrEqual(model.maxEntries);
  expect(real.bytes).toBeLessThanOrEqual(model.maxBytes);
  let bytes = 0;
  for (const entry of model.entries.values()) bytes += entry.size;
  expect(real.bytes).toBe(bytes);
  expect(real.size).toBe(model.entries.size);
}

class SetCommand implements fc.Command<Model, Real> {
  constructor(
    readonly key: string,
    readonly value: number,
    readonly ttlMs: number | undefined,
    readonly size: number,
  ) {}
  check = () => true;
  run(model: Model, real: Real): void {
    const expiresAt = this.ttlMs === undefined ? Number.POSITIVE_INFINITY : model.clock.now() + this.ttlMs;
    try {
      const options = this.ttlMs === undefined ? { size: this.size } : { ttlMs: this.ttlMs, size: this.size };
      real.set(this.key, this.value, options);
      model.entries.set(this.key, { value: this.value, expiresAt, size: this.size });
    } catch (error) {
      // Only a full noeviction/volatile store may refuse, and then nothing changed.
      expect(isDcError(error, 'E_CAPACITY')).toBe(true);
    }
    // A tinylfu store may evict the newcomer itself: the evict event has already removed it.
    if (!real.has(this.key)) model.entries.delete(this.key);
    checkInvariants(model, real);
  }
  toString = () => `set(${JSON.stringify(this.key)}, ${this.value}, ttl=${this.ttlMs}, size=${this.size})`;
}

class GetCommand implements fc.Command<Model, Real> {
  constructor(
    readonly key: string,
    readonly peek: boolean,
  ) {}
  check = () => true;
  run(model: Model, real: Real): void {
    const expected = live(model, this.key);
    const got = this.peek ? real.peek(this.key) : real.get(this.key);
    expect(got).toBe(expected?.value);
    checkInvariants(model, real);
  }
  toString = () => `${this.peek ? 'peek' : 'get'}(${JSON.stringify(this.key)})`;
}

class DeleteCommand implements fc.Command<Model, Real> {
  constructor(readonly key: string) {}
  check = () => true;
  run(model: Model, real: Real): void {
    const expected = live(model, this.key) !== undefined;
    expect(real.delete(this.key)).toBe(expected);
    model.entries.delete(this.key);
    checkInvariants(model, real);
  }
  toString = () => `delete(${JSON.stringify(this.key)})`;
}

class AdvanceCommand implements fc.Command<Model, Real> {
  constructor(readonly ms: number) {}
  check = () => true;
  run(model: Model, real: Real): void {
    model.clock.advance(this.ms);
    checkInvariants(model, real);
    for (const [key, value] of real.entries()) expect(live(model, key)?.value).toBe(value);
  }
  toString = () => `advance(${this.ms})`;
}

class ClearCommand implements fc.Command<Model, Real> {
  check = () => true;
  run(model: Model, real: Real): void {
    real.clear();
    model.entries.clear();
    checkInvariants(model, real);
  }
  toString = () => 'clear()';
}

const commands = [
  fc
    .tuple(
      fc.constantFrom(...KEYS),
      fc.integer({ min: 0, max: 1_000 }),
      fc.option(fc.integer({ min: 1, max: 300 }), { nil: undefined }),
      fc.integer({ min: 0, max: 40 }),
    )
    .map(([key, value, ttl, size]) => new SetCommand(key, value, ttl, size)),
  fc.tuple(fc.constantFrom(...KEYS), fc.boolean()).map(([key, peek]) => new GetCommand(key, peek)),
  fc.constantFrom(...KEYS).map((key) => new DeleteCommand(key)),
  fc.integer({ min: 1, max: 200 }).map((ms) => new AdvanceCommand(ms)),
  fc.constant(new ClearCommand()),
];

const CASES: Array<{
  policy?: EvictionPolicy;
  mode?: EvictionMode;
  lfuApproximate?: boolean;
  keyIndex?: 'object';
}> = [
  { policy: 'lru' },
  { policy: 'lru', keyIndex: 'object' },
  { policy: 'sieve', keyIndex: 'object' },
  { policy: 'tinylfu', keyIndex: 'object' },
  { mode: 'volatile-ttl', keyIndex: 'object' },
  { policy: 'lfu' },
  { policy: 'lfu', lfuApproximate: true },
  { policy: 'sieve' },
  { policy: 'tinylfu' },
  { mode: 'volatile-lru' },
  { mode: 'volatile-lfu' },
  { mode: 'volatile-ttl' },
  { mode: 'allkeys-random' },
  { mode: 'volatile-random' },
  { mode: 'noeviction' },
];

describe('createMemoryStore (model-based)', () => {
  it.each(CASES)('agrees with a Map model under random commands for %j (seed 20261127)', (variant) => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 40, max: 120 }),
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.commands(commands, { maxCommands: 100 }),
        (maxEntries, maxBytes, seed, cmds) => {
          const clock = createManualClock(10_000);
          let state = seed;
          const random = () => {
            state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
            return state / 4294967296;
          };
          const real = createMemoryStore<number>({
            maxEntries,
            maxBytes,
            sizeOf: () => 1,
            clock,
            random,
            expiryIntervalMs: 50,
            ...variant,
          });
          const model: Model = { entries: new Map(), clock, maxEntries, maxBytes };
          real.on('evict', (key, value) => {
            expect(model.entries.get(key)?.value).toBe(value);
            model.entries.delete(key);
          });
          real.on('expire', (key, value, expiresAt) => {
            const entry = model.entries.get(key);
            expect(entry?.value).toBe(value);
            expect(expiresAt).toBeLessThanOrEqual(clock.now());
            model.entries.delete(key);
          });
          fc.modelRun(() => ({ model, real }), cmds);
          real.close();
          expect(clock.pendingTimers()).toBe(0);
        },
      ),
      { seed: 20261127, numRuns: 150 },
    );
  });
});
