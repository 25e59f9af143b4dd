import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DIGEST, md5Bytes, md5String } from '../src/internal/md5';

function digestHex(): string {
  const out = Buffer.alloc(16);
  for (let i = 0; i < 4; i++) out.writeInt32LE(DIGEST[i] as number, i * 4);
  return out.toString('hex');
}

function reference(data: string | Uint8Array): string {
  return createHash('md5').update(data).digest('hex');
}

describe('md5String', () => {
  it('returns the RFC 1321 test-suite digests when given its inputs', () => {
    const suite: [string, string][] = [
      ['', 'd41d8cd98f00b204e9800998ecf8427e'],
      ['a', '0cc175b9c0f1b6a831c399e269772661'],
      ['abc', '900150983cd24fb0d6963f7d28e17f72'],
      ['message digest', 'f96b697d7cb7938d525a2f31aaf161d0'],
      ['abcdefghijklmnopqrstuvwxyz', 'c3fcd3d76192e4007dfb496cca67e13b'],
      [
        '12345678901234567890123456789012345678901234567890123456789012345678901234567890',
        '57edf4a22be3c955ac49da2e2107b67a',
      ],
    ];
    for (const [input, hex] of suite) {
      md5String(input);
      expect(digestHex(), input).toBe(hex);
    }
  });

  it('matches node:crypto at every padding boundary length (0..200 bytes)', () => {
    for (let n = 0; n <= 200; n++) {
      const input = 'k'.repeat(n);
      md5String(input);
      expect(digestHex(), `length ${n}`).toBe(reference(input));
    }
  });

  it('matches node:crypto on arbitrary strings, surrogates included (seed 3301)', () => {
    const lone = fc
      .array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 70 })
      .map((codes) => String.fromCharCode(...codes));
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 150 }), lone), (s) => {
        md5String(s);
        return digestHex() === reference(Buffer.from(s, 'utf8'));
      }),
      { seed: 3301, numRuns: 2000 },
    );
  });

  it('matches node:crypto after a long input grew the scratch buffer', () => {
    const long = 'é'.repeat(5000);
    md5String(long);
    expect(digestHex()).toBe(reference(long));
    md5String('short');
    expect(digestHex()).toBe(reference('short'));
  });
});

describe('md5Bytes', () => {
  it('matches node:crypto on arbitrary bytes (seed 3302)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        md5Bytes(bytes);
        return digestHex() === reference(bytes);
      }),
      { seed: 3302, numRuns: 1000 },
    );
  });
});
