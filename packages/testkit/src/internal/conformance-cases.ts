import { type CacheEntry, type CacheStore, type DcErrorCode, isDcError } from '@dc/core';
import { expect } from 'vitest';
import type { ConformanceOptions, ConformanceSubject } from '../conformance';

/** What one conformance case gets: a fresh subject and helpers relative to its clock. */
export interface CaseContext {
  readonly subject: ConformanceSubject;
  readonly store: CacheStore<unknown>;
  readonly options: Readonly<Required<ConformanceOptions>>;
  /** The subject's clock, or the wall clock. */
  now(): number;
  /** An entry stale in 30 s and expiring in 60 s, relative to {@link CaseContext.now}. */
  entry<T>(value: T, extra?: Partial<CacheEntry<T>>): CacheEntry<T>;
}

/** One behaviour every store must have; a failing `expect` inside `run` throws. */
export interface ConformanceCase {
  readonly group: string;
  readonly name: string;
  /** Registered only when this returns true for the options. */
  readonly enabled?: (options: Readonly<Required<ConformanceOptions>>) => boolean;
  run(context: CaseContext): Promise<void>;
}

/** Builds the context for `subject`. */
export function caseContext(
  subject: ConformanceSubject,
  options: Readonly<Required<ConformanceOptions>>,
): CaseContext {
  const now = () => subject.clock?.now() ?? Date.now();
  return {
    subject,
    store: subject.store,
    options,
    now,
    entry: (value, extra = {}) => ({ value, staleAt: now() + 30_000, expiresAt: now() + 60_000, ...extra }),
  };
}

/** JSON values every store must round-trip (deep-equal on read). */
const JSON_SHAPES: ReadonlyArray<readonly [string, unknown]> = [
  ['a string', 'hello'],
  ['an empty string', ''],
  ['a non-ASCII string', 'naïve 日本語 🚀 \u0000 "quoted" \\ \n'],
  ['zero', 0],
  ['a negative float', -12.5],
  ['a large safe integer', Number.MAX_SAFE_INTEGER],
  ['true', true],
  ['false', false],
  ['null', null],
  ['an empty array', []],
  ['an empty object', {}],
  [
    'a nested object',
    { user: { id: 7, name: 'Ada', roles: ['admin', 'dev'], meta: { active: true, score: null } } },
  ],
  ['an array of mixed values', [1, 'two', { three: 3 }, [4], null, false]],
  ['a 100 KB string', 'x'.repeat(100_000)],
  ['an object with prototype-named fields', { constructor: 'c', toString: 't', hasOwnProperty: 'h' }],
];

const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'];

const BAD_KEYS: ReadonlyArray<readonly [string, unknown]> = [
  ['an empty key', ''],
  ['a number key', 42],
  ['an undefined key', undefined],
];

/** Every case of the suite, in registration order. */
export const CONFORMANCE_CASES: readonly ConformanceCase[] = [
  {
    group: 'get and set',
    name: 'returns undefined when the key was never set',
    async run({ store }) {
      expect(await store.get('never-set')).toBeUndefined();
    },
  },
  {
    group: 'get and set',
    name: 'returns the value and timestamps when the key was set',
    async run({ store, entry }) {
      const stored = entry({ a: 1 });
      await store.set('k', stored);
      const got = await store.get('k');
      expect(got?.value).toEqual({ a: 1 });
      expect(got?.expiresAt).toBe(stored.expiresAt);
      expect(got?.staleAt).toBe(stored.staleAt);
    },
  },
  {
    group: 'get and set',
    name: 'replaces the value and timestamps when a key is set again',
    async run({ store, entry, now }) {
      await store.set('k', entry('first'));
      const second = entry('second', { staleAt: now() + 5_000, expiresAt: now() + 9_000 });
      await store.set('k', second);
      expect(await store.get('k')).toEqual(second);
    },
  },
  {
    group: 'get and set',
    name: 'keeps keys apart when they differ only in case, spacing, separators or Unicode form',
    async run({ store, entry }) {
      const keys = [
        'k',
        'K',
        'k ',
        ' k',
        'a:b',
        'a{b}c',
        '{a}b',
        'caf\u00e9',
        'cafe\u0301',
        'ключ',
        '*',
        'a\r\nb',
      ];
      for (const [i, key] of keys.entries()) await store.set(key, entry(i));
      for (const [i, key] of keys.entries()) expect((await store.get(key))?.value, key).toBe(i);
    },
  },
  ...JSON_SHAPES.map(
    ([label, value]): ConformanceCase => ({
      group: 'get and set',
      name: `round-trips ${label}`,
      async run({ store, entry }) {
        await store.set('shape', entry(value));
        expect((await store.get('shape'))?.value).toEqual(value);
      },
    }),
  ),
  {
    group: 'get and set',
    name: 'preserves staleAt, deltaMs and tags when they are set',
    async run({ store, entry, now }) {
      const full = entry('v', {
        staleAt: now() + 1_234,
        expiresAt: now() + 5_678,
        deltaMs: 42,
        tags: ['t1', 't:2'],
      });
      await store.set('full', full);
      expect(await store.get('full')).toEqual(full);
      await store.set('bare', entry('v'));
      const bare = await store.get('bare');
      expect(bare?.deltaMs).toBeUndefined();
      expect(bare?.tags).toBeUndefined();
    },
  },
  {
    group: 'get and set',
    name: 'returns an entry unchanged while it is stale but not expired',
    async run({ store, entry, now }) {
      const stale = entry('stale', { staleAt: now() - 1, expiresAt: now() + 60_000 });
      await store.set('stale', stale);
      expect(await store.get('stale')).toEqual(stale);
    },
  },
  {
    group: 'get and set',
    name: 'keeps every write when many sets run concurrently',
    async run({ store, entry }) {
      const keys = Array.from({ length: 50 }, (_, i) => `concurrent:${i}`);
      await Promise.all(keys.map((key, i) => store.set(key, entry(i))));
      expect((await store.getMany(keys)).map((e) => e?.value)).toEqual(keys.map((_, i) => i));
    },
  },
  {
    group: 'get and set',
    name: 'returns the value as it was at set time when the caller mutates it afterwards',
    enabled: (options) => options.serializes,
    async run({ store, entry }) {
      const value = { list: [1, 2], name: 'before' };
      await store.set('k', entry(value));
      value.list.push(3);
      value.name = 'after';
      expect((await store.get('k'))?.value).toEqual({ list: [1, 2], name: 'before' });
    },
  },
  {
    group: 'delete',
    name: 'resolves true when the key existed and false when it did not, leaving other keys',
    async run({ store, entry }) {
      await store.set('a', entry(1));
      await store.set('b', entry(2));
      expect(await store.delete('a')).toBe(true);
      expect(await store.get('a')).toBeUndefined();
      expect(await store.delete('a')).toBe(false);
      expect(await store.delete('never-set')).toBe(false);
      expect((await store.get('b'))?.value).toBe(2);
    },
  },
  {
    group: 'clear',
    name: 'removes every entry and leaves the store usable',
    enabled: (options) => options.supportsClear,
    async run({ store, entry }) {
      await store.setMany([
        ['a', entry(1)],
        ['b', entry(2)],
        ['__proto__', entry(3)],
      ]);
      await store.clear();
      expect(await store.getMany(['a', 'b', '__proto__'])).toEqual([undefined, undefined, undefined]);
      await store.set('a', entry(4));
      expect((await store.get('a'))?.value).toBe(4);
    },
  },
  {
    group: 'getMany, setMany and deleteMany',
    name: 'returns entries in key order with undefined for misses and repeats',
    async run({ store, entry }) {
      await store.setMany([
        ['a', entry('A')],
        ['c', entry('C')],
      ]);
      const got = await store.getMany(['c', 'missing', 'a', 'c']);
      expect(got.map((e) => e?.value)).toEqual(['C', undefined, 'A', 'C']);
      expect(await store.getMany([])).toEqual([]);
    },
  },
  {
    group: 'getMany, setMany and deleteMany',
    name: 'stores every pair with its own timestamps when setMany is called',
    async run({ store, entry, now }) {
      const pairs = Array.from(
        { length: 20 },
        (_, i) =>
          [`many:${i}`, entry({ i }, { staleAt: now() + 1_000 + i, expiresAt: now() + 50_000 + i })] as const,
      );
      await store.setMany(pairs);
      for (const [key, stored] of pairs) expect(await store.get(key)).toEqual(stored);
      await store.setMany([]);
    },
  },
  {
    group: 'getMany, setMany and deleteMany',
    name: 'resolves the number of keys that existed when deleteMany is called',
    async run({ store, entry }) {
      await store.setMany([
        ['a', entry(1)],
        ['b', entry(2)],
        ['c', entry(3)],
      ]);
      expect(await store.deleteMany(['a', 'b', 'missing'])).toBe(2);
      expect(await store.deleteMany(['a', 'b'])).toBe(0);
      expect(await store.deleteMany([])).toBe(0);
      expect((await store.getMany(['a', 'b', 'c'])).map((e) => e?.value)).toEqual([undefined, undefined, 3]);
    },
  },
  {
    group: 'expiry',
    name: 'never returns an entry at or after its expiresAt',
    async run({ store, subject, entry, options }) {
      const { clock } = subject;
      if (clock) {
        const now = clock.now();
        await store.set('ttl', { value: 'v', staleAt: now + 500, expiresAt: now + 1_000 });
        await store.set('long', { value: 'w', staleAt: now + 5_000, expiresAt: now + 10_000 });
        clock.advance(999);
        expect((await store.get('ttl'))?.value).toBe('v');
        clock.advance(1);
        expect(await store.get('ttl')).toBeUndefined();
        expect((await store.getMany(['ttl', 'long'])).map((e) => e?.value)).toEqual([undefined, 'w']);
        return;
      }
      if (!options.realTime) {
        throw new Error(
          '[dc:testkit] the subject has no clock: return `clock` from create() or pass { realTime: true }',
        );
      }
      const expiresAt = Date.now() + options.realTimeTtlMs;
      await store.set('ttl', { value: 'v', staleAt: expiresAt, expiresAt });
      await store.set('long', entry('w'));
      const firstReadAt = Date.now();
      const early = await store.get('ttl');
      // Only a read that clearly started before expiry must hit; a slow machine may be past it.
      if (firstReadAt < expiresAt - 50) expect(early?.value).toBe('v');
      const deadline = expiresAt + options.expiryPollMs;
      for (let attempt = 0; ; attempt++) {
        const startedAt = Date.now();
        const got = await store.get('ttl');
        if (startedAt >= expiresAt) {
          expect(got, `read started ${startedAt - expiresAt} ms after expiresAt`).toBeUndefined();
          break;
        }
        if (startedAt > deadline || attempt > 1_000)
          throw new Error('[dc:testkit] expiry poll ran past its bound');
        await new Promise((resolve) => setTimeout(resolve, Math.min(25, Math.max(1, expiresAt - startedAt))));
      }
      expect((await store.getMany(['ttl', 'long'])).map((e) => e?.value)).toEqual([undefined, 'w']);
    },
  },
  {
    group: 'expiry',
    name: 'never returns an entry whose expiresAt was already past when it was set',
    async run({ store, now }) {
      const outcome = await store
        .set('past', { value: 'v', staleAt: now() - 2_000, expiresAt: now() - 1_000 })
        .then(
          () => 'stored',
          (error: unknown) => (isDcError(error, 'E_INVALID_OPTION') ? 'rejected' : error),
        );
      expect(['stored', 'rejected']).toContain(outcome);
      expect(await store.get('past')).toBeUndefined();
    },
  },
  ...BAD_KEYS.map(
    ([label, key]): ConformanceCase => ({
      group: 'bad input',
      name: `rejects ${label} with E_INVALID_KEY on every method and loses nothing`,
      async run({ store, entry }) {
        const kept = entry('kept');
        await store.set('kept', kept);
        const k = key as string;
        await expectCode(store.get(k), 'E_INVALID_KEY');
        await expectCode(store.set(k, entry('x')), 'E_INVALID_KEY');
        await expectCode(store.delete(k), 'E_INVALID_KEY');
        await expectCode(store.getMany(['kept', k]), 'E_INVALID_KEY');
        await expectCode(
          store.setMany([
            ['fresh', entry('y')],
            [k, entry('x')],
          ]),
          'E_INVALID_KEY',
        );
        await expectCode(store.deleteMany(['kept', k]), 'E_INVALID_KEY');
        expect(await store.get('kept')).toEqual(kept);
        expect(await store.get('fresh')).toBeUndefined();
      },
    }),
  ),
  {
    group: 'bad input',
    name: 'rejects malformed entries with E_INVALID_OPTION and keeps the previous entry',
    async run({ store, entry, now }) {
      const previous = entry('previous');
      await store.set('k', previous);
      const t = now();
      const bad: unknown[] = [
        { value: 'x', staleAt: t, expiresAt: Number.NaN },
        { value: 'x', staleAt: t, expiresAt: Number.POSITIVE_INFINITY },
        { value: 'x', staleAt: Number.NaN, expiresAt: t + 1_000 },
        { value: 'x', staleAt: t + 2_000, expiresAt: t + 1_000 },
        { value: 'x', staleAt: t, expiresAt: t + 1_000, deltaMs: -1 },
        { value: 'x', staleAt: t, expiresAt: t + 1_000, tags: [1] },
        { staleAt: t, expiresAt: t + 1_000 },
        null,
      ];
      for (const candidate of bad) {
        await expectCode(store.set('k', candidate as CacheEntry<unknown>), 'E_INVALID_OPTION');
      }
      await expectCode(
        store.setMany([
          ['other', entry('fine')],
          ['k', bad[0] as CacheEntry<unknown>],
        ]),
        'E_INVALID_OPTION',
      );
      expect(await store.get('k')).toEqual(previous);
      expect(await store.get('other')).toBeUndefined();
    },
  },
  ...PROTOTYPE_KEYS.map(
    (key): ConformanceCase => ({
      group: 'prototype-named keys',
      name: `treats ${key} like any other key and pollutes nothing`,
      async run({ store, entry }) {
        expect(await store.get(key)).toBeUndefined();
        expect(await store.getMany([key])).toEqual([undefined]);
        const stored = entry({ polluted: true });
        await store.set(key, stored);
        expect(await store.get(key)).toEqual(stored);
        expect(await store.get('plain')).toBeUndefined();
        expect(await store.delete(key)).toBe(true);
        expect(await store.get(key)).toBeUndefined();
        expect(await store.delete(key)).toBe(false);
        expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
        expect(Object.getPrototypeOf({})).toBe(Object.prototype);
        expect(Object.keys(Object.prototype)).toEqual([]);
      },
    }),
  ),
  {
    group: 'close',
    name: 'resolves every time when called repeatedly or concurrently',
    async run({ store }) {
      await Promise.all([store.close(), store.close()]);
      await expect(store.close()).resolves.toBeUndefined();
    },
  },
  {
    group: 'close',
    name: 'rejects later calls with E_CLOSED',
    enabled: (options) => options.rejectsAfterClose,
    async run({ store, entry }) {
      await store.close();
      await expectCode(store.get('k'), 'E_CLOSED');
      await expectCode(store.set('k', entry(1)), 'E_CLOSED');
      await expectCode(store.delete('k'), 'E_CLOSED');
    },
  },
];

async function expectCode(promise: Promise<unknown>, code: DcErrorCode): Promise<void> {
  const outcome = await promise.then(
    (value) => ({ resolved: true as const, value }),
    (error: unknown) => ({ resolved: false as const, error }),
  );
  if (outcome.resolved) {
    expect.fail(`expected a rejection with ${code}, but it resolved ${JSON.stringify(outcome.value)}`);
  } else {
    const { error } = outcome;
    expect(
      isDcError(error, code),
      `expected ${code}, got ${String((error as Error)?.message ?? error)}`,
    ).toBe(true);
  }
}
