import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRespDepthScanner } from '../src/internal/resp-depth-scanner';

const nested = (depth: number, leaf = ':1\r\n') => `${'*1\r\n'.repeat(depth)}${leaf}`;
const scanAll = (maxDepth: number, chunks: string[]) => {
  const scanner = createRespDepthScanner(maxDepth);
  return chunks.every((c) => scanner.push(Buffer.from(c, 'latin1')));
};

describe('createRespDepthScanner', () => {
  it('accepts a reply nested exactly to the limit and rejects one level more', () => {
    expect(scanAll(8, [nested(8)])).toBe(true);
    expect(scanAll(8, [nested(9)])).toBe(false);
  });

  it('rejects a 100k-deep reply when it arrives one byte at a time', () => {
    const bytes = nested(100_000);
    const scanner = createRespDepthScanner(512);
    let at = 0;
    while (at < bytes.length && scanner.push(Buffer.from(bytes[at] as string, 'latin1'))) at++;
    expect(at).toBe('*1\r\n'.length * 513 - 1);
  });

  it('closes levels when their elements complete, so many shallow replies never add up', () => {
    const reply = `*3\r\n${nested(3)}$3\r\n***\r\n*-1\r\n`;
    expect(scanAll(4, Array(1_000).fill(reply))).toBe(true);
    // Nested after a completed sibling: depth counts from the parent, not the sibling.
    expect(scanAll(4, [`*2\r\n*0\r\n${nested(3)}`, `*2\r\n$-1\r\n${nested(4)}`])).toBe(false);
  });

  it('skips bulk bodies by length, including `*` bytes and a body split across chunks', () => {
    const body = `${'*9\r\n'.repeat(50)}`;
    const reply = `*2\r\n$${body.length}\r\n${body}\r\n+OK\r\n`;
    expect(scanAll(2, [reply.slice(0, 10), reply.slice(10, 77), reply.slice(77)])).toBe(true);
    expect(scanAll(2, [reply, nested(2), nested(3)])).toBe(false);
  });

  it('gives the same verdict however a stream of replies is split into chunks (fast-check seed 5)', () => {
    const leaf = fc.constantFrom(
      ':42\r\n',
      '+OK\r\n',
      '-ERR x\r\n',
      '$5\r\n*1\r\n*\r\n',
      '$-1\r\n',
      '*0\r\n',
      '*-1\r\n',
    );
    const reply: fc.Arbitrary<string> = fc.letrec<{ node: string }>((tie) => ({
      node: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        leaf,
        fc
          .array(tie('node'), { minLength: 1, maxLength: 3 })
          .map((items) => `*${items.length}\r\n${items.join('')}`),
      ),
    })).node;
    const depthOf = (text: string) => {
      // Reference: count open arrays with a straightforward recursive descent.
      let at = 0;
      let max = 0;
      const parse = (depth: number): void => {
        const type = text[at];
        const end = text.indexOf('\r\n', at);
        const header = text.slice(at + 1, end);
        at = end + 2;
        if (type === '$') {
          if (Number(header) >= 0) at += Number(header) + 2;
        } else if (type === '*' && Number(header) > 0) {
          max = Math.max(max, depth + 1);
          for (let i = 0; i < Number(header); i++) parse(depth + 1);
        }
      };
      while (at < text.length) parse(0);
      return max;
    };
    fc.assert(
      fc.property(
        fc.array(reply, { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (replies, cuts) => {
          const text = replies.join('');
          const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
          const chunks: string[] = [];
          let from = 0;
          for (const p of points) {
            chunks.push(text.slice(from, p));
            from = p;
          }
          chunks.push(text.slice(from));
          const limit = 3;
          expect(scanAll(limit, chunks)).toBe(depthOf(text) <= limit);
        },
      ),
      { seed: 5, numRuns: 300 },
    );
  });
});
