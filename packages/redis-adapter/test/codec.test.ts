import { createEntry, createJsonSerializer, isDcError, type Serializer } from '@dc/core';
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

  it('writes the envelope version and codec name', () => {
    expect(JSON.parse(codec.encode(entry))).toMatchObject({ v: ENVELOPE_VERSION, codec: 'json' });
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
    expect(JSON.parse(text).value).toBe('cba');
    expect(rc.decode(text)).toEqual(e);
    expect(isDcError(decodeError(text), 'E_SERIALIZATION')).toBe(true);
  });

  it('rejects a payload of another version, a bad UTF-8 sequence or a non-envelope with E_SERIALIZATION', () => {
    for (const bad of [
      codec.encode(entry).replace('"v":1', '"v":0'),
      Buffer.from([0x7b, 0xff, 0x7d]),
      '42',
      '{"v":1}',
      `{"v":1,"codec":"json","expiresAt":1,"staleAt":1,"deltaMs":-1,"value":1}`,
    ]) {
      expect(isDcError(decodeError(bad), 'E_SERIALIZATION')).toBe(true);
    }
  });
});
