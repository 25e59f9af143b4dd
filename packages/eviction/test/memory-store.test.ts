import { createManualClock, isDcError } from '@dc/core';
import { describe, expect, it } from 'vitest';
import type { EvictionPolicy, KeyIndexKind, MemoryStore, MemoryStoreOptions } from '../src/index';
import { createMemoryStore, EVICTION_MODES, isMemoryStore, KEY_INDEX_KINDS } from '../src/index';

const POLICIES: EvictionPolicy[] = ['lru', 'lfu', 'sieve', 'tinylfu'];

function make<V>(options: Partial<MemoryStoreOptions<V>> = {}): MemoryStore<V> {
  return createMemoryStore<V>({
    maxEntries: 3,
    activeExpiry: false,
    clock: createManualClock(1_000),
    ...options,
  });
}

function capacityError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('createMemoryStore', () => {
  it.each(POLICIES)('round-trips get/peek/has/delete/clear with policy %s', (policy) => {
    const store = make<number>({ policy, maxEntries: 10 });
    expect(isMemoryStore(store)).toBe(true);
    expect(store.set('a', 1)).toBe(true);
    expect(store.set('b', 2)).toBe(true);
    expect(store.get('a')).toBe(1);
    expect(store.peek('b')).toBe(2);
    expect(store.has('b')).toBe(true);
    expect(store.has('zz')).toBe(false);
    expect(store.size).toBe(2);
    expect(store.set('a', 11)).toBe(true);
    expect(store.get('a')).toBe(11);
    expect(store.size).toBe(2);
    expect(store.delete('a')).toBe(true);
    expect(store.delete('a')).toBe(false);
    expect(store.get('a')).toBeUndefined();
    store.clear();
    expect(store.size).toBe(0);
    expect([...store]).toEqual([]);
  });

  it.each(POLICIES)('treats "", __proto__ and constructor as ordinary keys with policy %s', (policy) => {
    const store = make<string>({ policy, maxEntries: 10 });
    for (const key of ['', '__proto__', 'constructor', 'toString', 'hasOwnProperty'])
      store.set(key, `v:${key}`);
    expect(store.get('')).toBe('v:');
    expect(store.get('__proto__')).toBe('v:__proto__');
    expect(store.get('constructor')).toBe('v:constructor');
    expect(store.size).toBe(5);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(store.delete('__proto__')).toBe(true);
    expect(store.has('__proto__')).toBe(false);
    expect(store.get('constructor')).toBe('v:constructor');
  });

  it('rejects a non-string key with E_INVALID_KEY', () => {
    const store = make<number>();
    const error = capacityError(() => store.set(1 as unknown as string, 1));
    expect(isDcError(error, 'E_INVALID_KEY')).toBe(true);
  });

  it('iterates live entries only, skipping expired ones', () => {
    const clock = createManualClock(0);
    const store = make<number>({ clock, maxEntries: 10 });
    store.set('a', 1);
    store.set('b', 2, { ttlMs: 10 });
    store.set('c', 3);
    clock.advance(10);
    expect([...store.keys()]).toEqual(['a', 'c']);
    expect([...store.values()]).toEqual([1, 3]);
    expect([...store.entries()]).toEqual([
      ['a', 1],
      ['c', 3],
    ]);
  });

  it('evicts the least recently used entry and emits evict with reason capacity', () => {
    const store = make<number>({ policy: 'lru' });
    const evicted: Array<[string, number, string]> = [];
    store.on('evict', (key, value, reason) => evicted.push([key, value, reason]));
    store.set('a', 1);
    store.set('b', 2);
    store.set('c', 3);
    store.get('a');
    store.set('d', 4);
    expect(evicted).toEqual([['b', 2, 'capacity']]);
    expect(store.has('b')).toBe(false);
    expect(store.stats().evictions).toBe(1);
  });

  it('does not change recency on peek and has', () => {
    const store = make<number>({ policy: 'lru' });
    store.set('a', 1);
    store.set('b', 2);
    store.set('c', 3);
    store.peek('a');
    store.has('a');
    store.set('d', 4);
    expect(store.has('a')).toBe(false);
  });

  it('stops emitting to a listener once it unsubscribes', () => {
    const store = make<number>({ maxEntries: 1 });
    let calls = 0;
    const off = store.on('evict', () => calls++);
    store.set('a', 1);
    store.set('b', 2);
    off();
    store.set('c', 3);
    expect(calls).toBe(1);
  });

  it('rethrows a listener error after the write completed consistently', () => {
    const store = make<number>({ maxEntries: 1 });
    store.on('evict', () => {
      throw new Error('listener failed');
    });
    store.set('a', 1);
    expect(() => store.set('b', 2)).toThrow('listener failed');
    expect(store.get('b')).toBe(2);
    expect(store.size).toBe(1);
  });

  it('counts hits and misses of get only', () => {
    const store = make<number>();
    store.set('a', 1);
    store.get('a');
    store.get('x');
    store.peek('a');
    expect(store.stats()).toMatchObject({ hits: 1, misses: 1 });
    store.resetStats();
    expect(store.stats()).toEqual({ hits: 0, misses: 0, evictions: 0, expirations: 0 });
  });
});

describe('MemoryStore TTL', () => {
  it('returns nothing at or after expiresAt and emits expire once', () => {
    const clock = createManualClock(0);
    const store = make<number>({ clock });
    const expired: Array<[string, number, number]> = [];
    store.on('expire', (key, value, at) => expired.push([key, value, at]));
    store.set('a', 1, { ttlMs: 100 });
    expect(store.getExpiresAt('a')).toBe(100);
    clock.advance(99);
    expect(store.get('a')).toBe(1);
    clock.advance(1);
    expect(store.get('a')).toBeUndefined();
    expect(store.get('a')).toBeUndefined();
    expect(expired).toEqual([['a', 1, 100]]);
    expect(store.size).toBe(0);
  });

  it('accepts an absolute expiresAt and removes the key when it is already past', () => {
    const clock = createManualClock(1_000);
    const store = make<number>({ clock });
    store.set('a', 1, { expiresAt: 1_500 });
    expect(store.getExpiresAt('a')).toBe(1_500);
    expect(store.set('a', 2, { expiresAt: 1_000 })).toBe(false);
    expect(store.has('a')).toBe(false);
  });

  it('applies defaultTtlMs unless expiresAt is Infinity', () => {
    const clock = createManualClock(0);
    const store = make<number>({ clock, defaultTtlMs: 50 });
    store.set('a', 1);
    store.set('b', 2, { expiresAt: Number.POSITIVE_INFINITY });
    store.set('c', 3, { ttlMs: 500 });
    expect(store.getExpiresAt('a')).toBe(50);
    expect(store.getExpiresAt('b')).toBe(Number.POSITIVE_INFINITY);
    clock.advance(50);
    expect(store.get('a')).toBeUndefined();
    expect(store.get('b')).toBe(2);
    expect(store.get('c')).toBe(3);
  });

  it('removes every expired entry on purgeExpired', () => {
    const clock = createManualClock(0);
    const store = make<number>({ clock, maxEntries: 100 });
    for (let i = 0; i < 50; i++) store.set(`k${i}`, i, { ttlMs: i % 2 === 0 ? 10 : 1_000 });
    clock.advance(10);
    expect(store.purgeExpired()).toBe(25);
    expect(store.size).toBe(25);
    expect(store.stats().expirations).toBe(25);
  });
});

describe('MemoryStore budgets', () => {
  it('refuses an entry larger than maxBytes with E_CAPACITY and evicts nothing', () => {
    const store = make<string>({ maxEntries: 10, maxBytes: 10, sizeOf: (v) => v.length });
    store.set('a', 'xxxx');
    store.set('b', 'yyyy');
    const error = capacityError(() => store.set('c', 'z'.repeat(11)));
    expect(isDcError(error, 'E_CAPACITY')).toBe(true);
    expect(store.size).toBe(2);
    expect(store.bytes).toBe(8);
    // An oversize overwrite changes nothing either.
    expect(() => store.set('a', 'z'.repeat(11))).toThrow(expect.objectContaining({ code: 'E_CAPACITY' }));
    expect(store.get('a')).toBe('xxxx');
  });

  it('evicts by bytes until the new entry fits, and accounts updates', () => {
    const store = make<string>({ maxEntries: 100, maxBytes: 10, sizeOf: (v) => v.length });
    store.set('a', 'aaaa');
    store.set('b', 'bbbb');
    store.set('c', 'cc');
    expect(store.bytes).toBe(10);
    store.set('d', 'ddd');
    expect(store.has('a')).toBe(false);
    expect(store.bytes).toBe(9);
    store.set('b', 'b');
    expect(store.bytes).toBe(6);
    store.set('e', 'eeeeeeee', { size: 4 });
    expect(store.bytes).toBeLessThanOrEqual(10);
  });

  it('grows an update in place by evicting other entries, never the updated one', () => {
    const store = make<string>({ maxEntries: 100, maxBytes: 10, sizeOf: (v) => v.length });
    store.set('a', 'aaa');
    store.set('b', 'bbb');
    store.set('c', 'ccc');
    store.set('a', 'aaaaaaaaa');
    expect(store.get('a')).toBe('aaaaaaaaa');
    expect(store.bytes).toBeLessThanOrEqual(10);
    expect(store.size).toBe(1);
  });
});

describe('MemoryStore modes', () => {
  it('lists all eight Redis modes', () => {
    expect(EVICTION_MODES).toHaveLength(8);
  });

  it('rejects writes under noeviction with E_CAPACITY and keeps every entry', () => {
    const store = make<number>({ mode: 'noeviction', maxEntries: 2 });
    store.set('a', 1);
    store.set('b', 2);
    const error = capacityError(() => store.set('c', 3));
    expect(isDcError(error, 'E_CAPACITY')).toBe(true);
    expect((error as Error).message).toContain('noeviction');
    expect(store.get('a')).toBe(1);
    expect(store.get('b')).toBe(2);
    expect(store.set('a', 10)).toBe(true);
  });

  it('lets noeviction reuse room held by expired entries', () => {
    const clock = createManualClock(0);
    const store = make<number>({ clock, mode: 'noeviction', maxEntries: 2 });
    store.set('a', 1, { ttlMs: 5 });
    store.set('b', 2);
    clock.advance(5);
    expect(store.set('c', 3)).toBe(true);
    expect(store.has('b')).toBe(true);
  });

  it.each(['volatile-lru', 'volatile-lfu', 'volatile-ttl', 'volatile-random'] as const)(
    'evicts only keys with a TTL under %s and refuses when none has one',
    (mode) => {
      const store = make<number>({ mode, maxEntries: 3, random: () => 0.5 });
      store.set('p1', 1);
      store.set('t1', 2, { ttlMs: 1_000 });
      store.set('p2', 3);
      store.set('n', 4);
      expect(store.has('t1')).toBe(false);
      expect(store.has('p1') && store.has('p2') && store.has('n')).toBe(true);
      const error = capacityError(() => store.set('m', 5));
      expect(isDcError(error, 'E_CAPACITY')).toBe(true);
      expect(store.size).toBe(3);
    },
  );

  it('evicts the key closest to expiry under volatile-ttl', () => {
    const store = make<number>({ mode: 'volatile-ttl', maxEntries: 3 });
    store.set('late', 1, { ttlMs: 3_000 });
    store.set('soon', 2, { ttlMs: 1_000 });
    store.set('mid', 3, { ttlMs: 2_000 });
    store.set('new', 4, { ttlMs: 5_000 });
    expect(store.has('soon')).toBe(false);
    expect(store.size).toBe(3);
  });

  it('evicts a uniformly drawn key under allkeys-random using the injected random', () => {
    const draws = [0.99];
    const store = make<number>({ mode: 'allkeys-random', random: () => draws.shift() ?? 0 });
    store.set('a', 1);
    store.set('b', 2);
    store.set('c', 3);
    store.set('d', 4);
    expect(store.has('c')).toBe(false);
    expect(store.size).toBe(3);
  });

  it('keeps a key that lost its TTL out of volatile eviction', () => {
    const store = make<number>({ mode: 'volatile-lru', maxEntries: 2 });
    store.set('a', 1, { ttlMs: 1_000 });
    store.set('b', 2, { ttlMs: 1_000 });
    store.set('a', 1, { expiresAt: Number.POSITIVE_INFINITY });
    store.set('c', 3, { ttlMs: 1_000 });
    expect(store.has('a')).toBe(true);
    expect(store.has('b')).toBe(false);
  });
});

describe("createMemoryStore's key index", () => {
  // Every policy with each index; the object index is a null-prototype object, so inherited
  // names must not look present, and integer-like keys (stored as elements, not named
  // properties) must behave like the rest.
  const CASES: Array<[EvictionPolicy, KeyIndexKind]> = POLICIES.flatMap((policy) =>
    KEY_INDEX_KINDS.map((kind): [EvictionPolicy, KeyIndexKind] => [policy, kind]),
  );

  const ODD_KEYS = [
    '',
    '__proto__',
    'constructor',
    'toString',
    'hasOwnProperty',
    'valueOf',
    '0',
    '1',
    '01',
    '-0',
    '1.5',
    '4294967294',
    '4294967295',
    '9007199254740993',
  ];

  it.each(CASES)('finds no inherited name in an empty store with %s', (policy, keyIndex) => {
    const store = make<string>({ policy, keyIndex, maxEntries: 10 });
    for (const key of ODD_KEYS) {
      expect(store.get(key)).toBeUndefined();
      expect(store.peek(key)).toBeUndefined();
      expect(store.has(key)).toBe(false);
      expect(store.delete(key)).toBe(false);
    }
    expect(store.size).toBe(0);
    expect(store.stats().misses).toBe(ODD_KEYS.length);
  });

  it.each(CASES)('keeps prototype-named and integer-like keys apart with %s', (policy, keyIndex) => {
    const store = make<string>({ policy, keyIndex, maxEntries: ODD_KEYS.length });
    for (const key of ODD_KEYS) expect(store.set(key, `v:${key}`)).toBe(true);
    expect(store.size).toBe(ODD_KEYS.length);
    for (const key of ODD_KEYS) expect(store.get(key)).toBe(`v:${key}`);
    expect(new Set(store.keys())).toEqual(new Set(ODD_KEYS));
    for (const [key, value] of store.entries()) expect(value).toBe(`v:${key}`);
    // '1' and '01' (or '0' and '-0') are different keys even though they name the same number.
    expect(store.delete('1')).toBe(true);
    expect(store.get('01')).toBe('v:01');
    expect(store.delete('0')).toBe(true);
    expect(store.get('-0')).toBe('v:-0');
    expect(store.size).toBe(ODD_KEYS.length - 2);
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each(CASES)('evicts prototype-named and integer-like keys cleanly with %s', (policy, keyIndex) => {
    const n = ODD_KEYS.length;
    const store = make<string>({ policy, keyIndex, maxEntries: n });
    for (const key of ODD_KEYS) store.set(key, `v:${key}`);
    // Plain writes take each policy's own eviction fast path.
    for (let i = 0; i < 3 * n; i++) store.set(`fresh:${i}`, `v:fresh:${i}`);
    const listed = [...store.keys()];
    expect(store.size).toBe(n);
    expect(listed).toHaveLength(n);
    for (const key of listed) expect(store.peek(key)).toBe(`v:${key}`);
    for (const key of ODD_KEYS) expect(store.has(key)).toBe(listed.includes(key));
    if (policy === 'lru' || policy === 'sieve') {
      for (const key of ODD_KEYS) expect(store.get(key)).toBeUndefined();
    }
    for (const key of ODD_KEYS) store.set(key, `again:${key}`);
    for (const key of ODD_KEYS.slice(-3)) expect(store.peek(key)).toBe(`again:${key}`);
    expect(store.size).toBe(n);
  });

  it('lists keys in insertion order with the Map index', () => {
    const store = make<number>({ maxEntries: 10 });
    for (const key of ['b', '10', 'a', '2', '02']) store.set(key, 0);
    expect([...store.keys()]).toEqual(['b', '10', 'a', '2', '02']);
  });

  it("lists integer-like keys first, then the others in insertion order, with keyIndex 'object'", () => {
    const store = make<number>({ maxEntries: 10, keyIndex: 'object' });
    for (const key of ['b', '10', 'a', '2', '02']) store.set(key, 0);
    expect([...store.keys()]).toEqual(['2', '10', 'b', 'a', '02']);
  });

  it.each(KEY_INDEX_KINDS)(
    'stops iterating when the store is cleared mid-way with keyIndex %s',
    (keyIndex) => {
      const store = make<number>({ maxEntries: 10, keyIndex });
      for (const key of ['a', 'b', 'c']) store.set(key, 1);
      const seen: string[] = [];
      for (const key of store.keys()) {
        seen.push(key);
        store.clear();
        store.set('a', 2);
      }
      expect(seen).toEqual(['a']);
      expect(store.get('a')).toBe(2);
    },
  );
});
