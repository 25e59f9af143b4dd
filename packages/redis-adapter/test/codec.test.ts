import { createEntry, createJsonSerializer, isDcError, jsonSerializer, type Serializer } from '@dc/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEnvelopeCodec, ENVELOPE_VERSION } from '../src/index';

const codec = createEnvelopeCodec(createJsonSerializer());
const entry = createEntry(
  { n: 1, s: 'é' },
  { now: 1_000, ttlMs: 500, graceMs: 100, deltaMs: 7, tags: ['a', 'b'] },
);

function decodeError(payload: string | Buffer): unknown {
  try {
    codec.decode(payload);
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('createEnvelopeCodec', () => {
  it('round-trips an entry with every optional field when encoded and decoded', () => {
    expect(codec.decode(codec.encode(entry))).toEqual(entry);
    expect(codec.decode(Buffer.from(codec.encode(entry)))).toEqual(entry);
  });

  it('leaves optional fields absent when they were not set', () => {
    const plain = createEntry('v', { now: 0, ttlMs: 10 });
    const decoded = codec.decode(codec.encode(plain));
    expect(decoded).toEqual(plain);
    expect('deltaMs' in decoded).toBe(false);
    expect('tags' in decoded).toBe(false);
  });

  it('round-trips a value holding U+FFFD and rejects a payload where invalid UTF-8 became U+FFFD', () => {
    const e = createEntry({ text: 'a\uFFFDb' }, { now: 0, ttlMs: 10 });
    const text = codec.encode(e);
    expect(text.includes('\uFFFD')).toBe(false);
    expect(codec.decode(text)).toEqual(e);
    expect(isDcError(decodeError(text.replace('\\ufffd', '\uFFFD')), 'E_SERIALIZATION')).toBe(true);
  });

  it('writes a one-line header (version, codec, expiry, staleAt, deltaMs, tags) before the value', () => {
    expect(ENVELOPE_VERSION).toBe(2);
    expect(codec.encode(entry)).toBe(
      `dc2|"json"|${entry.expiresAt}|${entry.staleAt}|7|["a","b"]\n{"n":1,"s":"é"}`,
    );
    expect(codec.encode(createEntry(1, { now: 0, ttlMs: 10 }))).toBe('dc2|"json"|10|10||\n1');
  });

  it('still reads version-1 JSON envelopes written before the upgrade', () => {
    const v1 = `{"v":1,"codec":"json","expiresAt":${entry.expiresAt},"staleAt":${entry.staleAt},"deltaMs":7,"tags":["a","b"],"value":{"n":1,"s":"é"}}`;
    expect(codec.decode(v1)).toEqual(entry);
    expect(isDcError(decodeError(v1.replace('"v":1', '"v":3')), 'E_SERIALIZATION')).toBe(true);
  });

  it('rejects malformed or poisoned version-2 payloads with E_SERIALIZATION', () => {
    for (const bad of [
      'dc2|"json"|10|10||',
      'dc2|"json"|10|10|\n1',
      'dc2|"json"||10||\n1',
      'dc2|"json"|soon|10||\n1',
      'dc2|"json"|10|11||\n1',
      'dc2|"json"|10|10|-1|\n1',
      'dc2|"json"|10|10||[1]\n1',
      'dc2|"json"|10|10||{"__proto__":{"x":1}}\n1',
      'dc2|"json"|10|10||\n{"__proto__":{"polluted":1}}',
      'dc2|"json"|10|10||\n{"constructor":{"prototype":{"x":1}}}',
      `dc2|"json"|10|10||\n${'['.repeat(100_000)}${']'.repeat(100_000)}`,
      'dc2|"json"|10|10||\n{"a":',
      'dc2|"msgpack"|10|10||\n1',
      'dc3|"json"|10|10||\n1',
    ]) {
      expect(isDcError(decodeError(bad), 'E_SERIALIZATION'), bad.slice(0, 60)).toBe(true);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('embeds a non-JSON codec as a string and decodes it with that codec', () => {
    const reverse: Serializer<string> = {
      name: 'reverse',
      encode: (v) => [...v].reverse().join(''),
      decode: (t) => [...t].reverse().join(''),
    };
    const rc = createEnvelopeCodec(reverse);
    const e = createEntry('abc', { now: 0, ttlMs: 10 });
    const text = rc.encode(e);
    expect(text.endsWith('\n"cba"')).toBe(true);
    expect(rc.decode(text)).toEqual(e);
    expect(isDcError(decodeError(text), 'E_SERIALIZATION')).toBe(true);
  });

  it('rejects a payload of another version, a bad UTF-8 sequence or a non-envelope with E_SERIALIZATION', () => {
    for (const bad of [
      codec.encode(entry).replace('dc2|', 'dc0|'),
      Buffer.from([0x7b, 0xff, 0x7d]),
      '42',
      '{"v":1}',
      `{"v":1,"codec":"json","expiresAt":1,"staleAt":1,"deltaMs":-1,"value":1}`,
    ]) {
      expect(isDcError(decodeError(bad), 'E_SERIALIZATION')).toBe(true);
    }
  });

  // The envelope hands the value text to the value codec as it is. Core's codec skips its scans
  // where they cannot matter and is checked against secure-json-parse itself
  // (core/test/serializer.test.ts); these pin that the envelope adds or drops nothing around it.
  describe('value parse: exactly what the value codec returns or refuses', () => {
    const defaultCodec = createEnvelopeCodec(jsonSerializer);
    const v2 = (valueText: string) => `dc2|"json"|10|10||\n${valueText}`;
    const outcome = (run: () => unknown): unknown => {
      try {
        return { value: run() };
      } catch (error) {
        return isDcError(error, 'E_SERIALIZATION') ? 'E_SERIALIZATION' : `untyped: ${String(error)}`;
      }
    };
    const agrees = (valueText: string) =>
      expect(
        outcome(() => defaultCodec.decode(v2(valueText)).value),
        valueText.slice(0, 80),
      ).toEqual(outcome(() => jsonSerializer.decode(valueText)));

    it('agrees on prototype keys, spelled plainly or with \\u escapes, at any depth', () => {
      for (const text of [
        '{"__proto__":{"polluted":1}}',
        '{"__proto__":1}',
        '{"a":[{"__proto__":{}}]}',
        '{"\\u005f_proto__":{"polluted":1}}',
        '{"_\\u005fproto__":{}}',
        '{"constructor":{"prototype":{"x":1}}}',
        '{"constructor":{"prototype":1}}',
        '{"a":{"b":{"constructor":{"prototype":{}}}}}',
        '{"constructor":{"\\u0070rototype":{}}}',
        '{"\\u0063onstructor":{"prototype":{}}}',
        '{"constructor":1}',
        '{"constructor":{"name":"x"}}',
        '{"prototype":{"x":1}}',
        '{"protocol":"https","proto":true}',
        '"__proto__"',
        '\uFEFF{"a":1}',
        '\uFEFF1',
        '{"a":"\\u00e9"}',
        '{"a":',
        '',
      ]) {
        agrees(text);
      }
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(({} as Record<string, unknown>).x).toBeUndefined();
    });

    it('agrees on random JSON texts with prototype keys mixed in (property)', () => {
      const risky = fc.constantFrom('__proto__', 'constructor', 'prototype', 'proto', 'a');
      const withRiskyKeys = fc.letrec((tie) => ({
        node: fc.oneof(
          { depthSize: 'small' },
          fc.jsonValue({ maxDepth: 2 }),
          fc.dictionary(risky, tie('node'), { maxKeys: 3 }),
          fc.array(tie('node'), { maxLength: 3 }),
        ),
      })).node;
      // JSON.stringify writes `__proto__` as a plain key, as a hostile writer would.
      const text = fc.oneof(
        withRiskyKeys.map((value) => JSON.stringify(value) ?? 'null'),
        fc.json({ maxDepth: 3 }),
        fc.string({ maxLength: 40 }),
      );
      fc.assert(
        fc.property(
          text.filter((t) => !t.includes('\uFFFD')),
          (t) => {
            agrees(t);
          },
        ),
        { numRuns: 500 },
      );
    });

    it('keeps the codec depth and size checks for long values', () => {
      agrees(`${'['.repeat(600)}${']'.repeat(600)}`);
      agrees(JSON.stringify({ text: 'x'.repeat(600) }));
    });
  });
});
