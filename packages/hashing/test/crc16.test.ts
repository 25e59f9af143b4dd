import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc16 } from '../src/index';
import { loadSlotVectors } from './reference-data';

// Bit-by-bit CRC16-XMODEM, independent of the table-driven implementation under test.
function bitwiseCrc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

describe('crc16', () => {
  it('returns 0x31C3 for "123456789" as the reference file and Redis state', () => {
    const { crc16Check } = loadSlotVectors();
    expect(crc16(crc16Check.input)).toBe(Number.parseInt(crc16Check.crc16, 16));
    expect(crc16(Buffer.from(crc16Check.input))).toBe(0x31c3);
  });

  it('returns 0 for empty input', () => {
    expect(crc16('')).toBe(0);
    expect(crc16(new Uint8Array(0))).toBe(0);
  });

  it('matches a bitwise CRC16-XMODEM on arbitrary bytes (seed 1101)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => crc16(bytes) === bitwiseCrc16(bytes)),
      { seed: 1101, numRuns: 500 },
    );
  });

  it('hashes strings as the UTF-8 bytes Buffer.from produces, lone surrogates included (seed 1102)', () => {
    const text = fc.string({ unit: 'binary', maxLength: 80 });
    const withSurrogates = fc
      .array(fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0xd800, max: 0xdfff })), {
        maxLength: 40,
      })
      .map((codes) => String.fromCharCode(...codes));
    fc.assert(
      fc.property(fc.oneof(text, withSurrogates), (s) => crc16(s) === bitwiseCrc16(Buffer.from(s, 'utf8'))),
      { seed: 1102, numRuns: 1000 },
    );
  });

  it('encodes each kind of UTF-8 sequence like TextEncoder when given edge characters', () => {
    const encoder = new TextEncoder();
    for (const s of [
      '\u007f',
      '\u0080',
      '\u07ff',
      '\u0800',
      '\uffff',
      '😀',
      '\ud800',
      '\udc00',
      'a\ud83d',
      '\ude00\ud83d',
    ]) {
      expect(crc16(s), JSON.stringify(s)).toBe(bitwiseCrc16(encoder.encode(s)));
    }
  });

  it('throws E_INVALID_KEY naming `data` when given a non-string, non-bytes value', () => {
    for (const bad of [42, null, undefined, {}, [1, 2], new Uint16Array(2)]) {
      expect(() => crc16(bad as never)).toThrow(expect.objectContaining({ code: 'E_INVALID_KEY' }));
      expect(() => crc16(bad as never)).toThrow(/`data`/);
    }
  });
});
