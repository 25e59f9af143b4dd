import { isDcError } from '@dc/core';
import { describe, expect, it } from 'vitest';
import type { MemoryStoreOptions } from '../src/index';
import { createMemoryStore, DEFAULT_MEMORY_STORE_OPTIONS, resolveMemoryStoreOptions } from '../src/index';

function optionError(options: unknown): unknown {
  try {
    createMemoryStore(options as MemoryStoreOptions<unknown>);
  } catch (error) {
    return error;
  }
  return undefined;
}

const one = (): number => 1;
const BAD_OPTIONS: Array<[Record<string, unknown>, string]> = [
  [{ maxEntries: 0 }, 'maxEntries'],
  [{ maxEntries: -1 }, 'maxEntries'],
  [{ maxEntries: 1.5 }, 'maxEntries'],
  [{ maxEntries: Number.NaN }, 'maxEntries'],
  [{}, 'maxEntries'],
  [{ maxBytes: 0, sizeOf: one }, 'maxBytes'],
  [{ maxBytes: 100 }, 'sizeOf'],
  [{ maxEntries: 10, defaultTtlMs: -5 }, 'defaultTtlMs'],
  [{ maxEntries: 10, defaultTtlMs: 0 }, 'defaultTtlMs'],
  [{ maxEntries: 10, defaultTtlMs: Number.POSITIVE_INFINITY }, 'defaultTtlMs'],
  [{ maxEntries: 10, policy: 'fifo' }, 'policy'],
  [{ maxEntries: 10, mode: 'allkeys-fifo' }, 'mode'],
  [{ maxEntries: 10, mode: 'noeviction', policy: 'lru' }, 'policy'],
  [{ maxEntries: 10, mode: 'allkeys-lru', policy: 'lfu' }, 'policy'],
  [{ maxEntries: 10, mode: 'volatile-lfu', policy: 'tinylfu' }, 'policy'],
  [{ maxBytes: 10, sizeOf: () => 1, policy: 'tinylfu' }, 'maxEntries'],
  [{ maxEntries: 10, expiryIntervalMs: 0 }, 'expiryIntervalMs'],
  [{ maxEntries: 10, expirySampleSize: 0 }, 'expirySampleSize'],
  [{ maxEntries: 10, evictionSamples: 0 }, 'evictionSamples'],
  [{ maxEntries: 10, lfuLogFactor: -1 }, 'lfuLogFactor'],
  [{ maxEntries: 10, lfuDecayTimeMs: -1 }, 'lfuDecayTimeMs'],
  [{ maxEntries: 10, lfuApproximate: true, policy: 'lru' }, 'lfuApproximate'],
  [{ maxEntries: 10, activeExpiry: 'yes' }, 'activeExpiry'],
  [{ maxEntries: 10, clock: {} }, 'clock'],
  [{ maxEntries: 10, keyIndex: 'hash' }, 'keyIndex'],
  [{ maxEntries: 10, keyIndex: null }, 'keyIndex'],
];

describe('resolveMemoryStoreOptions', () => {
  it.each(BAD_OPTIONS)('throws E_INVALID_OPTION naming the option when given %j', (options, name) => {
    const error = optionError(options);
    expect(isDcError(error, 'E_INVALID_OPTION')).toBe(true);
    expect((error as Error).message).toContain(name);
    expect((error as Error).message).toMatch(/^\[dc:eviction\]/);
  });

  it('derives the mode from the policy when only the policy is given', () => {
    expect(resolveMemoryStoreOptions({ maxEntries: 1, policy: 'sieve' }).mode).toBe('allkeys-lru');
    expect(resolveMemoryStoreOptions({ maxEntries: 1, policy: 'tinylfu' }).mode).toBe('allkeys-lfu');
    expect(resolveMemoryStoreOptions({ maxEntries: 1 }).policy).toBe('lru');
  });

  it('derives the policy from the mode when only the mode is given', () => {
    expect(resolveMemoryStoreOptions({ maxEntries: 1, mode: 'volatile-lfu' }).policy).toBe('lfu');
    expect(resolveMemoryStoreOptions({ maxEntries: 1, mode: 'volatile-lru' }).policy).toBe('lru');
  });

  it('applies the frozen defaults when options are omitted', () => {
    const resolved = resolveMemoryStoreOptions({ maxEntries: 3 });
    expect(Object.isFrozen(DEFAULT_MEMORY_STORE_OPTIONS)).toBe(true);
    expect(resolved.expiryIntervalMs).toBe(DEFAULT_MEMORY_STORE_OPTIONS.expiryIntervalMs);
    expect(resolved.maxBytes).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('createMemoryStore', () => {
  it.each([
    [{ ttlMs: -1 }, 'ttlMs'],
    [{ ttlMs: 0 }, 'ttlMs'],
    [{ ttlMs: Number.NaN }, 'ttlMs'],
    [{ ttlMs: 5, expiresAt: 10 }, 'ttlMs'],
    [{ expiresAt: Number.NaN }, 'expiresAt'],
  ])('rejects set options %j with E_INVALID_OPTION and stores nothing', (options, name) => {
    const store = createMemoryStore<number>({ maxEntries: 2, activeExpiry: false });
    let error: unknown;
    try {
      store.set('k', 1, options);
    } catch (e) {
      error = e;
    }
    expect(isDcError(error, 'E_INVALID_OPTION')).toBe(true);
    expect((error as Error).message).toContain(name);
    expect(store.size).toBe(0);
  });

  it('rejects a size that sizeOf reports as negative', () => {
    const store = createMemoryStore<number>({ maxEntries: 2, maxBytes: 10, sizeOf: () => -1 });
    expect(() => store.set('k', 1)).toThrow(expect.objectContaining({ code: 'E_INVALID_OPTION' }));
    expect(store.size).toBe(0);
  });
});
