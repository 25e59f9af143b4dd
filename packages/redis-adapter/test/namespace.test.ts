import { keySlot } from '@dc/hashing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeGlob, namespacedKey, namespaceScanPattern } from '../src/index';

const X3_KEYS = [
  'a',
  'a{b}c',
  '{',
  '}',
  '{}',
  '*',
  '?',
  '[a-z]',
  '\\',
  ':',
  '1:a',
  'a:1',
  '\r\n',
  '\0',
  '\x7f',
  '\uD800',
  '\uDC00',
  '\uFFFD',
  'caf\u00e9',
  'cafe\u0301',
  '\u202Eevil',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'x'.repeat(1024),
];
const X3_TENANTS = [
  '',
  'a',
  'a:',
  ':a',
  '1',
  '1:a',
  'a*',
  'ab',
  't'.repeat(10_000),
  'caf\u00e9',
  '[x]',
  '\\',
];

/** Redis stores keys as UTF-8 bytes, so collisions are checked on the bytes. */
const bytes = (ns: string, key: string) => Buffer.from(namespacedKey(ns, key), 'utf8').toString('hex');

describe('namespacedKey', () => {
  it('maps every (tenant, key) pair of the X3 corpus to a distinct Redis key', () => {
    const seen = new Map<string, string>();
    for (const ns of X3_TENANTS) {
      for (const key of X3_KEYS) {
        const k = bytes(ns, key);
        const pair = JSON.stringify([ns, key]);
        expect(seen.get(k), `${pair} collides with ${seen.get(k)}`).toBeUndefined();
        seen.set(k, pair);
      }
    }
    expect(seen.size).toBe(X3_TENANTS.length * X3_KEYS.length);
  });

  it('never maps two different pairs to the same bytes (property, seed 8)', () => {
    const text = fc.string({
      unit: fc.constantFrom('a', ':', '1', '#', '{', '}', '"', '\\', '\uD800', '\uFFFD', '\u00e9'),
      maxLength: 6,
    });
    fc.assert(
      fc.property(text, text, text, text, (ns1, k1, ns2, k2) => {
        fc.pre(ns1 !== ns2 || k1 !== k2);
        return bytes(ns1, k1) !== bytes(ns2, k2);
      }),
      { seed: 8, numRuns: 20_000 },
    );
  });

  it('keeps NFC and NFD spellings distinct', () => {
    expect(namespacedKey('t', 'caf\u00e9')).not.toBe(namespacedKey('t', 'cafe\u0301'));
  });

  it('lets only the user key choose the cluster slot (the namespace has no braces)', () => {
    expect(keySlot(namespacedKey('tenant', 'x{user1}y'))).toBe(keySlot('user1'));
    expect(keySlot(namespacedKey('other', 'x{user1}y'))).toBe(keySlot('user1'));
  });
});

describe('namespaceScanPattern', () => {
  it('escapes glob metacharacters so only the namespace matches', () => {
    expect(escapeGlob('a*b?[c]\\^')).toBe('a\\*b\\?\\[c\\]\\\\\\^');
    expect(namespaceScanPattern('a*')).toBe('2:a\\*[:#]*');
  });
});
