import { describe, expect, it } from 'vitest';
import { createKetamaRing, keySlot, measureBalance, remapFraction } from '../src/index';

describe('remapFraction', () => {
  it('returns the share of keys whose node differs between two routers', () => {
    const keys = ['a', 'b', 'c', 'd'];
    expect(
      remapFraction(
        (k) => String(k),
        (k) => (k === 'a' ? 'x' : String(k)),
        keys,
      ),
    ).toBe(0.25);
    expect(
      remapFraction(
        (k) => String(k),
        (k) => String(k),
        keys,
      ),
    ).toBe(0);
  });

  it('returns 0 when given no keys', () => {
    expect(
      remapFraction(
        () => 'a',
        () => 'b',
        [],
      ),
    ).toBe(0);
  });

  it('accepts rings and functions alike', () => {
    const ring = createKetamaRing(['a:1', 'b:1']);
    expect(remapFraction(ring, (k) => ring.getNode(k), ['x', 'y', 'z'])).toBe(0);
  });

  it('throws E_INVALID_OPTION naming the router when it cannot route', () => {
    expect(() => remapFraction({} as never, () => 'a', ['k'])).toThrow(/`before`/);
    expect(() => remapFraction(() => 'a', 3 as never, ['k'])).toThrow(/`after`/);
  });
});

describe('measureBalance', () => {
  it('reports keys per node with max/mean when given a function router', () => {
    const report = measureBalance(
      (k) => (String(k) < 'c' ? 'left' : 'right'),
      ['a', 'b', 'c', 'd', 'e', 'f'],
    );
    expect(Object.fromEntries(report.perNode)).toEqual({ left: 2, right: 4 });
    expect(report.mean).toBe(3);
    expect(report.max).toBe(4);
    expect(report.min).toBe(2);
    expect(report.maxOverMean).toBeCloseTo(4 / 3);
  });

  it('counts listed nodes that received no key', () => {
    const report = measureBalance(() => 'a', ['k1', 'k2'], ['a', 'b']);
    expect(report.min).toBe(0);
    expect(report.maxOverMean).toBe(2);
  });

  it("counts a ring's idle servers from `servers`", () => {
    const ring = createKetamaRing(['a:1', 'b:1', 'c:1']);
    expect(measureBalance(ring, ['only-one']).perNode.size).toBe(3);
  });

  it('works with slot routing as a function', () => {
    const report = measureBalance((k) => (keySlot(k) < 8192 ? 'n1' : 'n2'), ['{a}1', '{a}2']);
    expect(report.max).toBe(2);
  });
});
