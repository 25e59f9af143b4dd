import { isDcError } from '@dc/core';
import { describe, expect, it } from 'vitest';
import { jitterTtl } from '../src/index';

describe('jitterTtl', () => {
  it('maps random 0, 0.5 and 1 to the low end, the middle and the high end of ±ratio', () => {
    expect(jitterTtl(10_000, { ratio: 0.2, random: () => 0 })).toBe(8_000);
    expect(jitterTtl(10_000, { ratio: 0.2, random: () => 0.5 })).toBe(10_000);
    expect(jitterTtl(10_000, { ratio: 0.2, random: () => 1 })).toBe(12_000);
  });

  it('uses ratio 0.1 by default', () => {
    expect(jitterTtl(1_000, { random: () => 0 })).toBe(900);
  });

  it('returns the TTL unchanged when ratio is 0', () => {
    expect(jitterTtl(1_234, { ratio: 0, random: () => 0.9 })).toBe(1_234);
  });

  it('spreads TTLs uniformly over [ttl(1-ratio), ttl(1+ratio)) with the default random', () => {
    const n = 20_000;
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < n; i++) {
      const ttl = jitterTtl(1_000, { ratio: 0.5 });
      expect(ttl).toBeGreaterThanOrEqual(500);
      expect(ttl).toBeLessThan(1_500);
      const bucket = Math.floor((ttl - 500) / 100);
      buckets[bucket] = (buckets[bucket] ?? 0) + 1;
    }
    // Each bucket expects 2,000 (sd ≈ 42); ±300 is a > 7 sd bound.
    for (const count of buckets) expect(Math.abs(count - n / 10)).toBeLessThan(300);
  });

  it.each([
    ['ratio 1', 1_000, { ratio: 1 }],
    ['ratio < 0', 1_000, { ratio: -0.1 }],
    ['ratio NaN', 1_000, { ratio: Number.NaN }],
    ['ttl 0', 0, {}],
    ['ttl NaN', Number.NaN, {}],
    ['random NaN', 1_000, { random: () => Number.NaN }],
  ])('throws E_INVALID_OPTION for %s', (_label, ttl, options) => {
    let error: unknown;
    try {
      jitterTtl(ttl, options);
    } catch (e) {
      error = e;
    }
    expect(isDcError(error, 'E_INVALID_OPTION')).toBe(true);
  });
});
