import { createManualClock, isDcError } from '@dc/core';
import { createTestStore, seededRandom } from '@dc/testkit';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { StrategyEvent } from '../src/index';
import { createWriteThrough, resolveWriteThroughOptions } from '../src/index';
import { withFaults } from './faulty-store';
import type { SqliteSource } from './sqlite-source';
import { createSqliteSource } from './sqlite-source';

const sources: SqliteSource[] = [];
function sqlite(random?: () => number): SqliteSource {
  const source = createSqliteSource(random);
  sources.push(source);
  return source;
}
afterEach(() => {
  for (const source of sources.splice(0)) source.close();
});

function setup(onCacheError: 'throw' | 'ignore' = 'throw') {
  const clock = createManualClock(1_000);
  const inner = createTestStore<string>({ clock: clock });
  const store = withFaults(inner, seededRandom(7));
  const source = sqlite();
  const events: StrategyEvent[] = [];
  const wt = createWriteThrough({
    store,
    dataSource: source,
    ttlMs: 60_000,
    clock,
    onCacheError,
    onEvent: (e) => events.push(e),
  });
  return { clock, inner, store, source, wt, events };
}

describe('createWriteThrough', () => {
  it('writes the data source and then the cache before acknowledging', async () => {
    const { inner, source, wt } = setup();
    await wt.set('user:1', 'Ada');
    expect(source.peek('user:1')).toBe('Ada');
    expect(inner.entries.get('user:1')).toMatchObject({ value: 'Ada', staleAt: 61_000 });
    expect(await wt.get('user:1')).toBe('Ada');
    expect(source.calls.loads).toBe(0);
  });

  it('caches nothing and rejects with the source error when the data source fails', async () => {
    const { inner, source, wt } = setup();
    await wt.set('k', 'v1');
    source.down = true;
    await expect(wt.set('k', 'v2')).rejects.toThrow('sqlite source is down');
    expect(inner.entries.get('k')?.value).toBe('v1');
    source.down = false;
    expect(source.peek('k')).toBe('v1');
  });

  it('invalidates the key and rejects with E_STORE_UNAVAILABLE when the cache write fails under throw', async () => {
    const { inner, store, source, wt, events } = setup('throw');
    await wt.set('k', 'v1');
    const failing = withFailingSetOnly(store);
    const error = await failing.run(() => wt.set('k', 'v2')).catch((e: unknown) => e);
    expect(isDcError(error, 'E_STORE_UNAVAILABLE')).toBe(true);
    expect(source.peek('k')).toBe('v2');
    expect(inner.entries.has('k')).toBe(false);
    expect(await wt.get('k')).toBe('v2');
    expect(events.map((e) => e.type)).toContain('cache:error');
  });

  it('acknowledges and reports cache:error when the cache write fails under ignore', async () => {
    const { inner, store, source, wt, events } = setup('ignore');
    await wt.set('k', 'v1');
    const failing = withFailingSetOnly(store);
    await failing.run(() => wt.set('k', 'v2'));
    expect(source.peek('k')).toBe('v2');
    expect(inner.entries.has('k')).toBe(false);
    expect(events.filter((e) => e.type === 'cache:error')).toHaveLength(1);
  });

  it('never serves the older value when both the cache write and the invalidation fail', async () => {
    const { inner, store, wt } = setup('ignore');
    await wt.set('k', 'v1');
    store.faults.writeFailRate = 1;
    await wt.set('k', 'v2');
    expect(inner.entries.get('k')?.value).toBe('v1');
    expect(await wt.get('k')).toBe('v2');
    store.faults.writeFailRate = 0;
    expect(await wt.get('k')).toBe('v2');
    expect(inner.entries.get('k')?.value).toBe('v2');
  });

  it('deletes from the data source, then the cache', async () => {
    const { inner, source, wt } = setup();
    await wt.set('k', 'v1');
    const order: string[] = [];
    const del = source.delete.bind(source);
    source.delete = async (key) => {
      order.push(`source:${inner.entries.has(key) ? 'cached' : 'gone'}`);
      await del(key);
    };
    await wt.delete('k');
    order.push(`after:${inner.entries.has('k') ? 'cached' : 'gone'}`);
    expect(order).toEqual(['source:cached', 'after:gone']);
    expect(source.peek('k')).toBeUndefined();
    expect(await wt.get('k')).toBeUndefined();
  });

  it('applies concurrent writes to one key in call order in both the source and the cache', async () => {
    const { inner, source, wt } = setup();
    const save = source.save.bind(source);
    let calls = 0;
    // Early writes take longer at the source: without per-key ordering they would land last.
    source.save = async (key, value) => {
      const delay = 20 - calls++;
      for (let i = 0; i < delay; i++) await Promise.resolve();
      await save(key, value);
    };
    await Promise.all(Array.from({ length: 20 }, (_, i) => wt.set('k', `v${i}`)));
    expect(source.peek('k')).toBe('v19');
    expect(inner.entries.get('k')?.value).toBe('v19');
  });

  it('reads a miss through the data source and caches it', async () => {
    const { inner, source, wt } = setup();
    await source.save('k', 'from-db');
    expect(await wt.get('k')).toBe('from-db');
    expect(inner.entries.get('k')?.value).toBe('from-db');
  });

  it('rejects writes with E_CLOSED after close', async () => {
    const { wt } = setup();
    await wt.close();
    const error = await wt.set('k', 'v').catch((e: unknown) => e);
    expect(isDcError(error, 'E_CLOSED')).toBe(true);
  });

  it('rejects an invalid key with E_INVALID_KEY before touching the source', async () => {
    const { source, wt } = setup();
    const error = await wt.set('', 'v').catch((e: unknown) => e);
    expect(isDcError(error, 'E_INVALID_KEY')).toBe(true);
    expect(source.calls.saves).toBe(0);
  });
});

/** Makes only `set`/`setMany` fail while `run` is active (invalidation still works). */
function withFailingSetOnly(store: ReturnType<typeof withFaults<string>>) {
  return {
    async run<T>(fn: () => Promise<T>): Promise<T> {
      const set = store.set;
      store.set = async () => {
        throw new Error('cache set failed');
      };
      try {
        return await fn();
      } finally {
        store.set = set;
      }
    },
  };
}

// Model-based test: random write/delete/read programs run against SQLite and a cache whose
// writes fail at random. Each key's operations apply in call order, so a key's history is
// its call order; a read must return the outcome of the last acknowledged operation before
// it, or of a later one that was attempted (an unacknowledged write may already be visible).
const SEED = 20_261_127;

type Op =
  | { readonly kind: 'set'; readonly key: string }
  | { readonly kind: 'delete'; readonly key: string }
  | { readonly kind: 'get'; readonly key: string };

const keyArb = fc.constantFrom('a', 'b', 'c');
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: keyArb.map((key) => ({ kind: 'set', key }) as const) },
  { weight: 1, arbitrary: keyArb.map((key) => ({ kind: 'delete', key }) as const) },
  { weight: 3, arbitrary: keyArb.map((key) => ({ kind: 'get', key }) as const) },
);
// Ops inside one group run concurrently; groups run one after another.
const programArb = fc.array(fc.array(opArb, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 25 });

interface HistoryItem {
  readonly outcome: string | undefined;
  status: 'pending' | 'acked' | 'failed';
}

describe('createWriteThrough model', () => {
  for (const policy of ['throw', 'ignore'] as const) {
    it(`returns the last acknowledged value or a newer one and never an older one when cache writes fail at random (onCacheError: ${policy})`, async () => {
      let resurrected = 0;
      let acknowledged = 0;
      await fc.assert(
        fc.asyncProperty(programArb, fc.integer({ min: 1, max: 2 ** 30 }), async (program, faultSeed) => {
          let bad = 0;
          const random = seededRandom(faultSeed);
          const clock = createManualClock(0);
          const store = withFaults(createTestStore<string>({ clock: clock }), random, {
            writeFailRate: 0.3,
            readFailRate: 0.05,
          });
          const source = sqlite(random);
          source.writeFailRate = 0.1;
          const wt = createWriteThrough({
            store,
            dataSource: source,
            ttlMs: 10_000,
            clock,
            onCacheError: policy,
          });
          const history = new Map<string, HistoryItem[]>();
          let counter = 0;
          const allowed = (key: string): Array<string | undefined> => {
            const items = history.get(key) ?? [];
            const from = lastAcked(items);
            const out: Array<string | undefined> = from === -1 ? [undefined] : [];
            for (let i = Math.max(from, 0); i < items.length; i++) {
              if ((items[i] as HistoryItem).status !== 'failed') out.push((items[i] as HistoryItem).outcome);
            }
            return out;
          };
          for (const group of program) {
            // Index of each key's last acknowledged operation when the group starts.
            const ackedAt = new Map(['a', 'b', 'c'].map((k) => [k, lastAcked(history.get(k) ?? [])]));
            await Promise.all(
              group.map(async (op) => {
                if (op.kind === 'get') {
                  const value = await wt.get(op.key).catch(() => 'read-error');
                  if (value === 'read-error') return;
                  const from = ackedAt.get(op.key) as number;
                  const items = history.get(op.key) ?? [];
                  const candidates = items
                    .slice(Math.max(from, 0))
                    .filter((item) => item.status !== 'failed')
                    .map((item) => item.outcome);
                  if (from === -1) candidates.push(undefined);
                  if (!candidates.includes(value)) bad += 1;
                  return;
                }
                const value = op.kind === 'set' ? `${op.key}#${++counter}` : undefined;
                const item: HistoryItem = { outcome: value, status: 'pending' };
                const items = history.get(op.key) ?? [];
                items.push(item);
                history.set(op.key, items);
                try {
                  if (op.kind === 'set') await wt.set(op.key, value as string);
                  else await wt.delete(op.key);
                  item.status = 'acked';
                  acknowledged += 1;
                } catch (error) {
                  // A cache failure after the source accepted is ambiguous (the value is in the source).
                  item.status = isDcError(error, 'E_STORE_UNAVAILABLE') ? 'pending' : 'failed';
                }
              }),
            );
          }
          // Final check: every key reads back an allowed value with the cache healthy and faulty.
          for (const key of ['a', 'b', 'c']) {
            const value = await wt.get(key).catch(() => 'read-error');
            if (value !== 'read-error' && !allowed(key).includes(value)) bad += 1;
            store.faults.writeFailRate = 0;
            store.faults.readFailRate = 0;
            source.writeFailRate = 0;
            const healthy = await wt.get(key);
            if (!allowed(key).includes(healthy)) bad += 1;
            if (healthy !== source.peek(key)) bad += 1;
          }
          await wt.close();
          resurrected += bad;
          return bad === 0;
        }),
        { seed: SEED, numRuns: 150 },
      );
      expect(resurrected).toBe(0);
      expect(acknowledged).toBeGreaterThan(500);
    });
  }
});

function lastAcked(items: readonly HistoryItem[]): number {
  let from = -1;
  items.forEach((item, i) => {
    if (item.status === 'acked') from = i;
  });
  return from;
}

describe('resolveWriteThroughOptions', () => {
  const clock = createManualClock(0);
  it('throws E_INVALID_OPTION naming the missing methods when the data source lacks save or delete', () => {
    const dataSource = { load: async () => undefined } as never;
    expect(() =>
      resolveWriteThroughOptions({ store: createTestStore({ clock: clock }), dataSource, ttlMs: 1 }),
    ).toThrow(/missing required method\(s\): save, delete/);
  });

  it('throws E_INVALID_OPTION for a negative graceMs or an unknown onCacheError', () => {
    const base = {
      store: createTestStore<string>({ clock: clock }),
      dataSource: createSqliteSource(),
      ttlMs: 1_000,
    };
    expect(() => resolveWriteThroughOptions({ ...base, graceMs: -1 })).toThrow(/`graceMs`/);
    expect(() => resolveWriteThroughOptions({ ...base, onCacheError: 'retry' as never })).toThrow(
      /`onCacheError`/,
    );
    base.dataSource.close();
  });
});
