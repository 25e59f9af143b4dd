import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createJsonSerializer, isDcError, jsonSerializer } from '../src/index';

function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('jsonSerializer.decode', () => {
  it.each([
    '{"__proto__":{"x":1}}',
    '{"a":{"__proto__":{"polluted":1}}}',
    '{"constructor":{"prototype":{"x":1}}}',
    '[{"constructor":{"prototype":{"polluted":1}}}]',
  ])('rejects the poisoned payload %s and leaves Object.prototype untouched', (payload) => {
    const error = errorOf(() => jsonSerializer.decode(payload));
    expect(isDcError(error, 'E_SERIALIZATION')).toBe(true);
    const probe: Record<string, unknown> = {};
    expect(probe.x).toBeUndefined();
    expect(probe.polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('x');
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('rejects truncated JSON with E_SERIALIZATION', () => {
    expect(
      isDcError(
        errorOf(() => jsonSerializer.decode('{"a":')),
        'E_SERIALIZATION',
      ),
    ).toBe(true);
  });

  it('rejects payloads nested deeper than maxDepth before parsing', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const error = errorOf(() => jsonSerializer.decode(deep));
    expect(isDcError(error, 'E_SERIALIZATION')).toBe(true);
    expect((error as Error).message).toContain('maxDepth');
  });

  it('ignores brackets inside strings when measuring depth', () => {
    const serializer = createJsonSerializer({ maxDepth: 2 });
    expect(serializer.decode(JSON.stringify({ a: '[[[[{{{{' }))).toEqual({ a: '[[[[{{{{' });
  });

  it('rejects payloads over maxBytes', () => {
    const serializer = createJsonSerializer({ maxBytes: 10 });
    expect(
      isDcError(
        errorOf(() => serializer.decode('"ééééééé"')),
        'E_SERIALIZATION',
      ),
    ).toBe(true);
  });
});

describe('jsonSerializer.encode', () => {
  it.each([
    ['a BigInt', 10n],
    ['a nested BigInt', { a: { b: 1n } }],
    ['a function', () => 1],
    ['a nested function', { f: () => 1 }],
    ['a symbol', { s: Symbol('x') }],
    ['a Map', new Map([[1, 2]])],
    ['a Set', { s: new Set([1]) }],
    ['undefined', undefined],
  ])('rejects %s with E_SERIALIZATION', (_label, value) => {
    expect(
      isDcError(
        errorOf(() => jsonSerializer.encode(value)),
        'E_SERIALIZATION',
      ),
    ).toBe(true);
  });

  it('rejects cycles with E_SERIALIZATION', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(
      isDcError(
        errorOf(() => jsonSerializer.encode(cyclic)),
        'E_SERIALIZATION',
      ),
    ).toBe(true);
  });

  it('round-trips any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(jsonSerializer.decode(jsonSerializer.encode(value))).toEqual(
          JSON.parse(JSON.stringify(value)),
        );
      }),
      { seed: 42, numRuns: 500 },
    );
  });
});
