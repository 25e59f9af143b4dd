import fc from 'fast-check';
import secureJsonParse from 'secure-json-parse';
import { describe, expect, it } from 'vitest';
import {
  createJsonSerializer,
  DEFAULT_JSON_SERIALIZER_OPTIONS,
  isDcError,
  jsonSerializer,
  SerializationError,
} from '../src/index';

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

  // Texts whose keys and strings spell the names secure-json-parse looks for, plainly and with
  // `\u` escapes, at any depth; some with a BOM. decode takes plain JSON.parse when the text
  // cannot hold a prototype key, so it must agree with secure-json-parse on every one.
  const KEYS = [
    '"__proto__"',
    '"\\u005f_proto__"',
    '"__pro\\u0074o__"',
    '"constructor"',
    '"\\u0063onstructor"',
    '"prototype"',
    '"proto\\u0074ype"',
    '"proto"',
    '"a"',
    '"b\\u0041"',
  ];
  const { tree } = fc.letrec<{ tree: string }>((tie) => ({
    tree: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.constantFrom('1', 'null', '"proto"', '"\\u0041"', '"[{"', 'true'),
      fc
        .array(fc.tuple(fc.constantFrom(...KEYS), tie('tree')), { maxLength: 4 })
        .map((members) => `{${members.map(([k, v]) => `${k}:${v}`).join(',')}}`),
      fc.array(tie('tree'), { maxLength: 4 }).map((items) => `[${items.join(',')}]`),
    ),
  }));
  const outcome = (parse: () => unknown) => {
    try {
      return { ok: true, value: parse() };
    } catch {
      return { ok: false };
    }
  };
  it('accepts and rejects exactly what secure-json-parse does, with equal results', () => {
    fc.assert(
      fc.property(tree, fc.boolean(), (body, withBom) => {
        const text = withBom ? `\uFEFF${body}` : body;
        const expected = outcome(() =>
          secureJsonParse.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' }),
        );
        const actual = outcome(() => jsonSerializer.decode(text));
        expect(actual.ok).toBe(expected.ok);
        // Compared as text: both come from JSON.parse of one text, so key order matches, and an
        // own `constructor` key would confuse a structural matcher's class check.
        if (expected.ok) expect(JSON.stringify(actual.value)).toBe(JSON.stringify(expected.value));
      }),
      { seed: 11, numRuns: 3_000 },
    );
  });

  it('still rejects a poisoned key in a long payload (past the short-text fast paths)', () => {
    const filler = 'x'.repeat(2_000);
    for (const key of ['__proto__', '\\u005f_proto__']) {
      const error = errorOf(() => jsonSerializer.decode(`{"note":"${filler}","${key}":{"polluted":1}}`));
      expect(isDcError(error, 'E_SERIALIZATION')).toBe(true);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('measures depth exactly when a long payload has more brackets than maxDepth in its strings', () => {
    const serializer = createJsonSerializer({ maxDepth: 3 });
    const text = JSON.stringify({ a: { b: '['.repeat(50) }, c: 'y'.repeat(100) });
    expect(serializer.decode(text)).toEqual({ a: { b: '['.repeat(50) }, c: 'y'.repeat(100) });
    expect(
      isDcError(
        errorOf(() => serializer.decode(`{"a":[[[1]]],"c":"${'y'.repeat(100)}"}`)),
        'E_SERIALIZATION',
      ),
    ).toBe(true);
  });

  it('rejects the shortest text nested one level past maxDepth, and accepts one at maxDepth', () => {
    for (const maxDepth of [1, 3, 512]) {
      const serializer = createJsonSerializer({ maxDepth });
      const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
      const error = errorOf(() => serializer.decode(nested(maxDepth + 1)));
      expect((error as Error).message).toContain('maxDepth');
      expect(serializer.decode(nested(maxDepth))).toBeInstanceOf(Array);
    }
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

  it.each([
    ['a nested function', { a: { f: () => 1 } }, 'key "f" is a function'],
    ['a function in an array', [1, () => 1], 'key "1" is a function'],
    ['a nested BigInt', { a: { b: 1n } }, 'key "b" is a BigInt'],
    ['a top-level function', () => 1, 'the value is a function'],
    ['a top-level symbol', Symbol('s'), 'the value is a symbol'],
    ['a Set inside an array', { list: [new Set([1])] }, 'key "0" is a Set'],
    ['a toJSON that returns a Map', { a: { toJSON: () => new Map() } }, 'key "a" is a Map'],
  ])('names what it cannot encode: %s', (_label, value, message) => {
    const error = errorOf(() => jsonSerializer.encode(value));
    expect(error).toBeInstanceOf(SerializationError);
    expect((error as Error).message).toContain(message);
  });

  it('names a cycle as such', () => {
    const cyclic: Record<string, unknown> = { list: [] };
    (cyclic.list as unknown[]).push(cyclic);
    expect((errorOf(() => jsonSerializer.encode(cyclic)) as Error).message).toMatch(/circular/i);
  });

  it('encodes what JSON.stringify encodes: toJSON results, own enumerable keys only', () => {
    const inherited = Object.create({ hidden: () => 1 }) as Record<string, unknown>;
    inherited.shown = 1;
    Object.defineProperty(inherited, 'secret', { value: () => 1, enumerable: false });
    const at = new Date(0);
    expect(jsonSerializer.encode({ at, inherited, custom: { toJSON: () => 'x' } })).toBe(
      JSON.stringify({ at, inherited, custom: 'x' }),
    );
  });

  // The encoder stringifies natively and then walks the value; this is the replacer it replaced,
  // which saw every value JSON.stringify visits. Both must accept and reject the same values.
  const reference = (value: unknown): string | undefined =>
    JSON.stringify(value, (_key, v: unknown) => {
      const kind = typeof v;
      if (
        kind === 'bigint' ||
        kind === 'function' ||
        kind === 'symbol' ||
        v instanceof Map ||
        v instanceof Set
      ) {
        throw new Error('unencodable');
      }
      return v;
    });
  it('accepts exactly the values the replacer-based encoder accepted, with the same text', () => {
    fc.assert(
      fc.property(
        fc.anything({
          withBigInt: true,
          withMap: true,
          withSet: true,
          withDate: true,
          withBoxedValues: true,
        }),
        (value) => {
          let expected: string | undefined;
          try {
            expected = reference(value);
          } catch {
            expected = undefined;
          }
          if (expected === undefined) {
            expect(
              isDcError(
                errorOf(() => jsonSerializer.encode(value)),
                'E_SERIALIZATION',
              ),
            ).toBe(true);
          } else {
            expect(jsonSerializer.encode(value)).toBe(expected);
          }
        },
      ),
      { seed: 7, numRuns: 2_000 },
    );
  });
});

describe('jsonSerializer limits', () => {
  const MiB = 1024 * 1024;

  const nested = (depth: number, leaf: unknown = 1): unknown => {
    let value = leaf;
    for (let i = 0; i < depth; i++) value = [value];
    return value;
  };

  it('refuses on encode what decode would refuse for depth, so nothing unreadable is stored', () => {
    const deepest = nested(512);
    expect(jsonSerializer.decode(jsonSerializer.encode(deepest))).toEqual(deepest);
    const error = errorOf(() => jsonSerializer.encode(nested(513)));
    expect(isDcError(error, 'E_SERIALIZATION')).toBe(true);
    expect((error as Error).message).toContain('maxDepth (512)');
    expect(() => jsonSerializer.decode(JSON.stringify(nested(513)))).toThrow(/maxDepth/);
  });

  it('walks values nested deeper than its recursion limit, and still names what it cannot encode', () => {
    const roomy = createJsonSerializer({ maxDepth: 2_000 });
    const deep = nested(1_900);
    expect(roomy.decode(roomy.encode(deep))).toEqual(deep);
    const error = errorOf(() => roomy.encode(nested(1_500, { bad: () => 1 })));
    expect((error as Error).message).toContain('key "bad" is a function');
    expect((errorOf(() => roomy.encode(nested(2_001))) as Error).message).toContain('maxDepth (2000)');
  });

  it('defaults maxBytes to 1 MiB (FAULTS X5), counted in UTF-8 bytes', () => {
    expect(DEFAULT_JSON_SERIALIZER_OPTIONS.maxBytes).toBe(MiB);
    const fits = 'x'.repeat(MiB - 2);
    expect(jsonSerializer.decode(jsonSerializer.encode(fits))).toBe(fits);
    const over = 'é'.repeat(MiB / 2);
    expect((errorOf(() => jsonSerializer.encode(over)) as Error).message).toContain('over maxBytes');
    expect((errorOf(() => jsonSerializer.decode(`"${over}"`)) as Error).message).toContain('over maxBytes');
  });

  it('takes a larger maxBytes when asked', () => {
    const big = 'x'.repeat(2 * MiB);
    const roomy = createJsonSerializer({ maxBytes: 4 * MiB });
    expect(roomy.decode(roomy.encode(big))).toBe(big);
  });
});
