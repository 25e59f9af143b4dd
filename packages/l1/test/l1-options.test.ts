import { createManualClock, isDcError, systemClock } from '@dc/core';
import { describe, expect, it } from 'vitest';
import type { L1StoreOptions } from '../src/index';
import {
  createL1Store,
  DEFAULT_L1_STORE_OPTIONS,
  estimateSize,
  L1_KEY_INDEXES,
  resolveL1StoreOptions,
} from '../src/index';
import { loadNodeCache, NODE_CACHE_INSTALL } from '../src/internal/node-cache-backend';

const errorOf = (fn: () => unknown): Error & { code?: string } => {
  try {
    fn();
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected a throw');
};

describe('resolveL1StoreOptions', () => {
  it('applies the defaults when given no options', () => {
    const resolved = resolveL1StoreOptions();
    expect(resolved).toMatchObject(DEFAULT_L1_STORE_OPTIONS);
    expect(resolved.clock).toBe(systemClock);
    expect(resolved.sizeOf).toBe(estimateSize);
    expect(Object.isFrozen(DEFAULT_L1_STORE_OPTIONS)).toBe(true);
  });

  it('reuses clock readings for 1 ms with the system clock and never with another clock', () => {
    expect(resolveL1StoreOptions().clockResolutionMs).toBe(1);
    expect(resolveL1StoreOptions({ clock: createManualClock() }).clockResolutionMs).toBe(0);
    expect(
      resolveL1StoreOptions({ clock: createManualClock(), clockResolutionMs: 5 }).clockResolutionMs,
    ).toBe(5);
    expect(resolveL1StoreOptions({ clockResolutionMs: 0 }).clockResolutionMs).toBe(0);
  });

  it('keeps a default short TTL between 1 and 5 seconds', () => {
    expect(DEFAULT_L1_STORE_OPTIONS.defaultTtlMs).toBeGreaterThanOrEqual(1_000);
    expect(DEFAULT_L1_STORE_OPTIONS.defaultTtlMs).toBeLessThanOrEqual(5_000);
  });

  it('defaults keyIndex to map and accepts every L1_KEY_INDEXES value', () => {
    expect(resolveL1StoreOptions().keyIndex).toBe('map');
    for (const keyIndex of L1_KEY_INDEXES)
      expect(resolveL1StoreOptions({ keyIndex }).keyIndex).toBe(keyIndex);
    expect([...L1_KEY_INDEXES].sort()).toEqual(['map', 'object']);
  });

  it('treats undefined options as absent', () => {
    expect(resolveL1StoreOptions({ maxEntries: undefined }).maxEntries).toBe(
      DEFAULT_L1_STORE_OPTIONS.maxEntries,
    );
  });

  const bad: Array<[string, Record<string, unknown>]> = [
    ['maxEntries', { maxEntries: 0 }],
    ['maxEntries', { maxEntries: 1.5 }],
    ['maxEntries', { maxEntries: Number.NaN }],
    ['defaultTtlMs', { defaultTtlMs: -1 }],
    ['defaultTtlMs', { defaultTtlMs: 0 }],
    ['defaultTtlMs', { defaultTtlMs: Number.NaN }],
    ['defaultTtlMs', { defaultTtlMs: Number.POSITIVE_INFINITY }],
    ['maxBytes', { maxBytes: 0 }],
    ['maxBytes', { maxBytes: -5 }],
    ['maxEntryBytes', { maxEntryBytes: 'big' }],
    ['maxKeyLength', { maxKeyLength: 0 }],
    ['maxTrackedChanges', { maxTrackedChanges: 0 }],
    ['backend', { backend: 'redis' }],
    ['policy', { policy: 'fifo' }],
    ['policy', { backend: 'node-cache', policy: 'lfu' }],
    ['keyIndex', { keyIndex: 'hash' }],
    ['keyIndex', { keyIndex: 1 }],
    ['keyIndex', { backend: 'node-cache', keyIndex: 'object' }],
    ['cloneValues', { cloneValues: 'yes' }],
    ['sizeOf', { sizeOf: 12 }],
    ['clock', { clock: { now: () => 0 } }],
    ['name', { name: '' }],
    ['clockResolutionMs', { clockResolutionMs: -1 }],
    ['clockResolutionMs', { clockResolutionMs: Number.NaN }],
    ['clockResolutionMs', { clockResolutionMs: '1' }],
    ['invalidation.bus', { invalidation: { bus: {} } }],
    ['maxEntires', { maxEntires: 10 }],
  ];

  it.each(bad)('rejects a bad `%s` with E_INVALID_OPTION naming it', (name, options) => {
    const error = errorOf(() => resolveL1StoreOptions(options as L1StoreOptions));
    expect(isDcError(error, 'E_INVALID_OPTION')).toBe(true);
    expect(error.message).toContain(`\`${name}\``);
    expect(error.message).toMatch(/^\[dc:l1\] /);
  });

  it('rejects options that are not an object', () => {
    expect(
      isDcError(
        errorOf(() => resolveL1StoreOptions(null as never)),
        'E_INVALID_OPTION',
      ),
    ).toBe(true);
  });
});

describe('createL1Store', () => {
  it('validates options before creating anything', () => {
    expect(
      isDcError(
        errorOf(() => createL1Store({ maxEntries: 0 })),
        'E_INVALID_OPTION',
      ),
    ).toBe(true);
  });
});

describe('createL1Store keyIndex', () => {
  const ODD_KEYS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', '1', '01', '0', '-0', 'a'];
  const entry = (value: string) => ({ value, expiresAt: 2_000_000, staleAt: 2_000_000 });
  const make = (keyIndex: 'map' | 'object', maxEntries = 64) =>
    createL1Store<string>({ keyIndex, maxEntries, clock: createManualClock(1_000_000) });

  it.each(L1_KEY_INDEXES)('finds no inherited name in an empty L1 with keyIndex %s', (keyIndex) => {
    const l1 = make(keyIndex);
    for (const key of ODD_KEYS) {
      expect(l1.getSync(key)).toBeUndefined();
      expect(l1.deleteSync(key)).toBe(false);
    }
    expect(l1.size).toBe(0);
    void l1.close();
  });

  it.each(L1_KEY_INDEXES)(
    'keeps prototype-named and integer-like keys apart with keyIndex %s',
    (keyIndex) => {
      const l1 = make(keyIndex);
      for (const key of ODD_KEYS) l1.setSync(key, entry(`v:${key}`));
      expect(l1.size).toBe(ODD_KEYS.length);
      for (const key of ODD_KEYS) expect(l1.getSync(key)?.value).toBe(`v:${key}`);
      expect(l1.deleteSync('1')).toBe(true);
      expect(l1.getSync('1')).toBeUndefined();
      expect(l1.getSync('01')?.value).toBe('v:01');
      expect(l1.deleteSync('__proto__')).toBe(true);
      expect(l1.getSync('constructor')?.value).toBe('v:constructor');
      expect(l1.size).toBe(ODD_KEYS.length - 2);
      void l1.close();
    },
  );

  it.each(L1_KEY_INDEXES)('evicts prototype-named keys cleanly with keyIndex %s', (keyIndex) => {
    const l1 = make(keyIndex, 3);
    for (const key of ODD_KEYS) l1.setSync(key, entry(`v:${key}`));
    const listed = [...l1.keys()];
    expect(l1.size).toBe(3);
    expect(listed).toHaveLength(3);
    for (const key of listed) expect(l1.getSync(key)?.value).toBe(`v:${key}`);
    expect(l1.stats().evictions).toBe(ODD_KEYS.length - 3);
    void l1.close();
  });

  it('passes keyIndex to the store: object lists integer-like keys first, map in write order', () => {
    const order = ['b', '10', 'a', '2', '02'];
    const byMap = make('map');
    const byObject = make('object');
    for (const key of order) {
      byMap.setSync(key, entry(key));
      byObject.setSync(key, entry(key));
    }
    expect([...byMap.keys()]).toEqual(order);
    expect([...byObject.keys()]).toEqual(['2', '10', 'b', 'a', '02']);
    void byMap.close();
    void byObject.close();
  });
});

describe('loadNodeCache', () => {
  it('throws E_INVALID_OPTION with the install command when node-cache is missing', () => {
    const missing = Object.assign(new Error("Cannot find module 'node-cache'"), { code: 'MODULE_NOT_FOUND' });
    const error = errorOf(() =>
      loadNodeCache(() => {
        throw missing;
      }),
    );
    expect(isDcError(error, 'E_INVALID_OPTION')).toBe(true);
    expect(error.message).toContain(NODE_CACHE_INSTALL);
    expect(error.message).toContain('`backend');
    expect(error.cause).toBe(missing);
  });

  it('accepts an ESM namespace with a default export and a bare CJS export', () => {
    class Fake {}
    expect(loadNodeCache(() => ({ default: Fake }))).toBe(Fake);
    expect(loadNodeCache(() => Fake)).toBe(Fake);
  });

  it('loads the installed node-cache by default', () => {
    expect(typeof loadNodeCache()).toBe('function');
  });
});

describe('estimateSize', () => {
  it('charges two bytes per string code unit plus a header', () => {
    expect(estimateSize('abc')).toBe(22);
    expect(estimateSize('abcdef') - estimateSize('abc')).toBe(6);
  });

  it('counts binary data by byte length and grows with object members', () => {
    expect(estimateSize(new Uint8Array(1_000))).toBeGreaterThanOrEqual(1_000);
    expect(estimateSize({ a: 'x'.repeat(100) })).toBeGreaterThan(estimateSize({ a: 'x' }));
    expect(estimateSize([1, 2, 3])).toBeGreaterThan(estimateSize([1]));
    expect(estimateSize(new Map([['k', 'v']]))).toBeGreaterThan(estimateSize(new Map()));
  });

  it('terminates on a cyclic value and on a value too large to walk', () => {
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    expect(estimateSize(cyclic)).toBeGreaterThan(0);
    const huge = Array.from({ length: 50_000 }, (_, i) => ({ i }));
    expect(estimateSize(huge)).toBeGreaterThanOrEqual(50_000 * 8);
  });
});
