import { type CacheEntry, type CacheStore, createManualClock, defineStore, type ManualClock } from '@dc/core';
import { describe, expect, it } from 'vitest';
import { createTestStore, DEFAULT_CONFORMANCE_OPTIONS } from '../src/index';
import { CONFORMANCE_CASES, caseContext } from '../src/internal/conformance-cases';

// The suite must catch the bugs it exists for: each case below fails on a store with that bug
// and passes on the correct memory store.

function runCase(nameStart: string, store: CacheStore, clock: ManualClock): Promise<void> {
  const testCase = CONFORMANCE_CASES.find((c) => c.name.startsWith(nameStart));
  if (!testCase) throw new Error(`no case named ${nameStart}`);
  return testCase.run(caseContext({ store, clock }, DEFAULT_CONFORMANCE_OPTIONS));
}

/** A correct store with one method replaced. */
function withBug(clock: ManualClock, patch: (store: CacheStore) => Partial<CacheStore>): CacheStore {
  const store = createTestStore({ clock });
  return { ...store, ...patch(store) } as CacheStore;
}

/** A store over a plain object that validates nothing: the classic hand-rolled cache. */
function objectStore(
  clock: ManualClock,
  options: { validate: boolean; inclusiveExpiry: boolean },
): CacheStore {
  const data: Record<string, CacheEntry<unknown>> = {};
  const alive = (entry: CacheEntry<unknown> | undefined) =>
    entry !== undefined &&
    (options.inclusiveExpiry ? clock.now() <= entry.expiresAt : clock.now() < entry.expiresAt);
  const definition = {
    name: 'object',
    async get(key: string) {
      const entry = data[key];
      return alive(entry) ? entry : undefined;
    },
    async set(key: string, entry: CacheEntry<unknown>) {
      data[key] = entry;
    },
    async delete(key: string) {
      const existed = alive(data[key]);
      delete data[key];
      return existed;
    },
    async clear() {
      for (const key of Object.keys(data)) delete data[key];
    },
  };
  if (options.validate) return defineStore(definition);
  return {
    ...definition,
    async close() {},
    getMany: async (keys) => Promise.all(keys.map((k) => definition.get(k))),
    setMany: async (entries) => {
      for (const [k, e] of entries) await definition.set(k, e);
    },
    deleteMany: async (keys) =>
      (await Promise.all(keys.map((k) => definition.delete(k)))).filter(Boolean).length,
  };
}

const BUGS: ReadonlyArray<readonly [string, string, (clock: ManualClock) => CacheStore]> = [
  [
    'never returns an entry at or after',
    'an entry is still returned at exactly expiresAt',
    (clock) => objectStore(clock, { validate: true, inclusiveExpiry: true }),
  ],
  [
    'resolves true when the key existed',
    'delete always resolves true',
    (clock) =>
      withBug(clock, (s) => ({
        delete: async (k) => {
          await s.delete(k);
          return true;
        },
      })),
  ],
  [
    'resolves the number of keys that existed',
    'deleteMany counts missing keys',
    (clock) =>
      withBug(clock, (s) => ({
        deleteMany: async (keys) => {
          await s.deleteMany(keys);
          return keys.length;
        },
      })),
  ],
  [
    'preserves staleAt, deltaMs and tags',
    'set drops tags',
    (clock) => withBug(clock, (s) => ({ set: (k, { tags: _tags, ...rest }) => s.set(k, rest) })),
  ],
  [
    'treats __proto__ like any other key',
    'entries live in a plain object',
    (clock) => objectStore(clock, { validate: true, inclusiveExpiry: false }),
  ],
  [
    'rejects an empty key with E_INVALID_KEY',
    'keys are not validated',
    (clock) => objectStore(clock, { validate: false, inclusiveExpiry: false }),
  ],
  [
    'rejects malformed entries with E_INVALID_OPTION',
    'entries are not validated',
    (clock) => objectStore(clock, { validate: false, inclusiveExpiry: false }),
  ],
  [
    'returns entries in key order',
    'getMany drops misses',
    (clock) =>
      withBug(clock, (s) => ({
        getMany: async (keys) => (await s.getMany(keys)).filter((entry) => entry !== undefined),
      })),
  ],
  [
    'resolves every time when called repeatedly',
    'a second close throws',
    (clock) => {
      let closed = false;
      return withBug(clock, () => ({
        close: async () => {
          if (closed) throw new Error('already closed');
          closed = true;
        },
      }));
    },
  ],
];

describe('runCacheStoreConformance cases', () => {
  it.each(BUGS)('"%s" fails when %s, and passes on a correct store', async (caseName, _bug, makeBroken) => {
    const clock = createManualClock(1_700_000_000_000);
    await expect(runCase(caseName, makeBroken(clock), clock)).rejects.toThrow();
    const fresh = createManualClock(1_700_000_000_000);
    await expect(runCase(caseName, createTestStore({ clock: fresh }), fresh)).resolves.toBeUndefined();
  });

  it('fails the expiry case with a hint when the subject has neither a clock nor realTime', async () => {
    const testCase = CONFORMANCE_CASES.find((c) => c.group === 'expiry')!;
    await expect(
      testCase.run(caseContext({ store: createTestStore() }, DEFAULT_CONFORMANCE_OPTIONS)),
    ).rejects.toThrow(/realTime/);
  });
});
