import { describe, expect, it } from 'vitest';
import {
  assertCacheStore,
  assertClock,
  assertFiniteNumber,
  assertFunction,
  assertOptionsObject,
  assertTtlMs,
  assertValidKey,
  createManualClock,
  describeValue,
  isDcError,
  parseDuration,
} from '../src/index';

function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('parseDuration', () => {
  it.each([
    ['150ms', 150],
    ['5s', 5_000],
    ['10m', 600_000],
    ['1h', 3_600_000],
    ['1d', 86_400_000],
    ['1.5s', 1_500],
    [250, 250],
  ] as const)('parses %s', (input, expected) => {
    expect(parseDuration(input)).toBe(expected);
  });

  it.each([Number.NaN, -1, Number.POSITIVE_INFINITY, '5 parsecs', '', 's', '-5s', '5', 0, '0s'])(
    'rejects %s with E_INVALID_OPTION naming the input',
    (input) => {
      const error = errorOf(() => parseDuration(input as never, { name: 'ttl' }));
      expect(isDcError(error, 'E_INVALID_OPTION')).toBe(true);
      expect((error as Error).message).toContain('`ttl`');
      expect((error as Error).message).toContain(
        typeof input === 'string' ? JSON.stringify(input) : String(input),
      );
    },
  );

  it('accepts zero only when asked', () => {
    expect(parseDuration(0, { allowZero: true })).toBe(0);
    expect(parseDuration('0ms', { allowZero: true })).toBe(0);
  });
});

describe('assertTtlMs', () => {
  it.each([Number.NaN, -1, Number.POSITIVE_INFINITY, 0, '5s', undefined])('rejects %s', (input) => {
    const error = errorOf(() => assertTtlMs(input, 'ttlMs', 'l1'));
    expect(isDcError(error, 'E_INVALID_OPTION')).toBe(true);
    expect((error as Error).message).toMatch(/^\[dc:l1\] `ttlMs` must be/);
    expect((error as Error).message).toContain(String(input === '5s' ? '"5s"' : input));
  });

  it('accepts finite positive milliseconds', () => {
    expect(() => assertTtlMs(0.5)).not.toThrow();
    expect(() => assertTtlMs(60_000)).not.toThrow();
  });
});

describe('assertValidKey', () => {
  it.each(['', 42, null, undefined, {}])('rejects %s with E_INVALID_KEY', (key) => {
    expect(
      isDcError(
        errorOf(() => assertValidKey(key)),
        'E_INVALID_KEY',
      ),
    ).toBe(true);
  });

  it('rejects keys over the length limit', () => {
    expect(
      isDcError(
        errorOf(() => assertValidKey('x'.repeat(11), 'core', 10)),
        'E_INVALID_KEY',
      ),
    ).toBe(true);
    expect(() => assertValidKey('x'.repeat(10), 'core', 10)).not.toThrow();
  });

  it('accepts keys that look like Object.prototype members', () => {
    for (const key of ['__proto__', 'constructor', 'prototype', 'toString']) {
      expect(() => assertValidKey(key)).not.toThrow();
    }
  });
});

describe('assertFiniteNumber', () => {
  it.each([
    [Number.NaN, {}],
    [Number.POSITIVE_INFINITY, {}],
    ['1', {}],
    [0, { min: 0, exclusiveMin: true }],
    [1, { min: 0, max: 1, exclusiveMax: true }],
    [-0.1, { min: 0 }],
    [2, { max: 1 }],
  ] as const)('rejects %s with bounds %o, naming the option and the range', (value, bounds) => {
    const error = errorOf(() => assertFiniteNumber(value, 'ratio', bounds, 'stampede'));
    expect(isDcError(error, 'E_INVALID_OPTION')).toBe(true);
    expect((error as Error).message).toMatch(/^\[dc:stampede\] `ratio` must be a finite number/);
  });

  it('describes the accepted range', () => {
    const error = errorOf(() => assertFiniteNumber(1, 'ratio', { min: 0, max: 1, exclusiveMax: true }));
    expect((error as Error).message).toContain('in [0, 1)');
  });

  it.each([
    [0, { min: 0 }],
    [0.5, { min: 0, max: 1, exclusiveMax: true }],
    [-5, {}],
  ] as const)('accepts %s with bounds %o', (value, bounds) => {
    expect(() => assertFiniteNumber(value, 'x', bounds)).not.toThrow();
  });
});

describe('assertFunction / assertOptionsObject / assertClock / assertCacheStore', () => {
  it('rejects the wrong shapes with E_INVALID_OPTION', () => {
    for (const fn of [
      () => assertFunction(1, 'loader'),
      () => assertOptionsObject(null, 'options'),
      () => assertOptionsObject('x', 'options'),
      () => assertClock({ now: () => 1 }),
      () => assertCacheStore({ get() {} }),
    ]) {
      expect(isDcError(errorOf(fn), 'E_INVALID_OPTION')).toBe(true);
    }
  });

  it('names the missing store methods', () => {
    expect((errorOf(() => assertCacheStore({ get() {} }, 'l2')) as Error).message).toContain('missing set');
  });

  it('accepts the right shapes', () => {
    expect(() => assertFunction(() => 1, 'loader')).not.toThrow();
    expect(() => assertOptionsObject(undefined, 'options')).not.toThrow();
    expect(() => assertClock(createManualClock())).not.toThrow();
  });
});

describe('describeValue', () => {
  it('quotes strings, cuts long ones and names shapes', () => {
    expect(describeValue('a')).toBe('"a"');
    expect(describeValue('x'.repeat(100))).toHaveLength(66);
    expect(describeValue(10n)).toBe('10n');
    expect(describeValue([1])).toBe('an array');
    expect(describeValue(new Map())).toBe('an object (Map)');
    expect(describeValue(() => 1)).toBe('a function');
  });
});
