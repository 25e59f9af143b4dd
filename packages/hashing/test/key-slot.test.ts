import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc16, keySlot, SLOT_COUNT } from '../src/index';
import { loadSlotVectors } from './reference-data';

// Redis's keyHashSlot() transcribed byte by byte, as an independent model.
function modelSlot(bytes: Uint8Array): number {
  let s = 0;
  while (s < bytes.length && bytes[s] !== 0x7b) s++;
  if (s === bytes.length) return crc16(bytes) & 16383;
  let e = s + 1;
  while (e < bytes.length && bytes[e] !== 0x7d) e++;
  if (e === bytes.length || e === s + 1) return crc16(bytes) & 16383;
  return crc16(bytes.subarray(s + 1, e)) & 16383;
}

describe('keySlot', () => {
  const { keys } = loadSlotVectors();

  it(`matches every slot redis-server answered in the reference file (${keys.length} keys) given exact bytes`, () => {
    for (const entry of keys) {
      expect(keySlot(Buffer.from(entry.hex, 'hex')), entry.hex).toBe(entry.slot);
    }
  });

  it('matches every reference slot when given the key as a string', () => {
    let checked = 0;
    for (const entry of keys) {
      if (entry.utf8 === undefined || Buffer.from(entry.utf8, 'utf8').toString('hex') !== entry.hex) continue;
      expect(keySlot(entry.utf8), JSON.stringify(entry.utf8)).toBe(entry.slot);
      checked++;
    }
    expect(checked).toBeGreaterThan(250);
  });

  it('applies the first-{-then-first-} rule when tags are empty, nested or repeated', () => {
    expect(keySlot('{user1000}.following')).toBe(keySlot('user1000'));
    expect(keySlot('foo{}{bar}')).toBe(crc16('foo{}{bar}') & 16383);
    expect(keySlot('foo{{bar}}zap')).toBe(keySlot('{bar'));
    expect(keySlot('foo{bar}{zap}')).toBe(keySlot('bar'));
    expect(keySlot('{bar')).toBe(crc16('{bar') & 16383);
    expect(keySlot('}{x}')).toBe(keySlot('x'));
  });

  it('agrees with a byte-level model of Redis on random brace-heavy bytes (seed 2201)', () => {
    const bytes = fc.array(fc.constantFrom(0x7b, 0x7d, 0x61, 0x00, 0xff, 0xc3, 0x80), { maxLength: 24 });
    fc.assert(
      fc.property(
        fc.oneof(
          bytes.map((b) => Uint8Array.from(b)),
          fc.uint8Array({ maxLength: 64 }),
        ),
        (key) => {
          return keySlot(key) === modelSlot(key);
        },
      ),
      { seed: 2201, numRuns: 2000 },
    );
  });

  it('gives a string the slot of its UTF-8 bytes, braces and surrogates included (seed 2202)', () => {
    const chars = fc.constantFrom('{', '}', 'a', 'é', '😀', '\ud800', '\udfff', ':', '€');
    const key = fc.array(chars, { maxLength: 20 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(fc.oneof(key, fc.string({ unit: 'binary', maxLength: 40 })), (k) => {
        return keySlot(k) === modelSlot(Buffer.from(k, 'utf8'));
      }),
      { seed: 2202, numRuns: 2000 },
    );
  });

  it('returns a slot in 0..16383 when given any string (seed 2203)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 100 }), (k) => {
        const slot = keySlot(k);
        return Number.isInteger(slot) && slot >= 0 && slot < SLOT_COUNT;
      }),
      { seed: 2203, numRuns: 500 },
    );
  });

  it('throws E_INVALID_KEY naming `key` when given a non-string, non-bytes key', () => {
    for (const bad of [1, null, undefined, Symbol('k'), { key: 'a' }, ['a']]) {
      expect(() => keySlot(bad as never)).toThrow(expect.objectContaining({ code: 'E_INVALID_KEY' }));
      expect(() => keySlot(bad as never)).toThrow(/`key`/);
    }
  });
});
