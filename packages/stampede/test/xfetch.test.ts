import { isDcError } from '@dc/core';
import { describe, expect, it } from 'vitest';
import { shouldRecomputeEarly } from '../src/index';

const base = { nowMs: 1_000, expiresAt: 1_100, deltaMs: 100 };

describe('shouldRecomputeEarly', () => {
  it.each([
    [100, 100, 1],
    [100, 100, 2],
    [100, 100, 0.5],
    [250, 40, 1.5],
    [5, 1_000, 1],
  ])(
    'flips exactly at u = exp(-t / (deltaMs * beta)) when t=%d ms, deltaMs=%d, beta=%d',
    (t, deltaMs, beta) => {
      const input = { nowMs: 10_000, expiresAt: 10_000 + t, deltaMs, beta };
      const threshold = Math.exp(-t / (deltaMs * beta));
      const below = threshold * (1 - 1e-9);
      const above = threshold * (1 + 1e-9);
      expect(shouldRecomputeEarly({ ...input, random: () => below })).toBe(true);
      expect(shouldRecomputeEarly({ ...input, random: () => above })).toBe(false);
      expect(shouldRecomputeEarly({ ...input, random: () => 1 })).toBe(false);
    },
  );

  it('is always true once expired, whatever random returns', () => {
    expect(shouldRecomputeEarly({ ...base, nowMs: 1_100, random: () => 1 })).toBe(true);
    expect(shouldRecomputeEarly({ ...base, nowMs: 5_000, deltaMs: 0, random: () => 1 })).toBe(true);
  });

  it('never recomputes early before expiry when deltaMs is 0', () => {
    expect(shouldRecomputeEarly({ ...base, deltaMs: 0, random: () => 1e-300 })).toBe(false);
  });

  it('treats u = 0 as "recompute now"', () => {
    expect(shouldRecomputeEarly({ ...base, random: () => 0 })).toBe(true);
  });

  it.each([
    [1, 100, 100],
    [2, 100, 100],
    [0.5, 100, 100],
    [1, 100, 50],
    [1, 100, 200],
    [3, 50, 120],
  ])(
    'recomputes a fraction exp(-t/(deltaMs*beta)) ± 0.008 of 100,000 default-random decisions (beta=%d, deltaMs=%d, t=%d)',
    (beta, deltaMs, t) => {
      const input = { nowMs: 0, expiresAt: t, deltaMs, beta };
      let early = 0;
      const n = 100_000;
      for (let i = 0; i < n; i++) if (shouldRecomputeEarly(input)) early++;
      expect(Math.abs(early / n - Math.exp(-t / (deltaMs * beta)))).toBeLessThanOrEqual(0.008);
    },
  );

  it.each([
    ['beta 0', { beta: 0 }],
    ['beta < 0', { beta: -1 }],
    ['beta NaN', { beta: Number.NaN }],
    ['beta Infinity', { beta: Number.POSITIVE_INFINITY }],
    ['deltaMs < 0', { deltaMs: -1 }],
    ['deltaMs NaN', { deltaMs: Number.NaN }],
    ['nowMs NaN', { nowMs: Number.NaN }],
    ['expiresAt NaN', { expiresAt: Number.NaN }],
    ['random NaN', { random: () => Number.NaN }],
    ['random > 1', { random: () => 1.5 }],
  ])('throws E_INVALID_OPTION for %s', (_label, override) => {
    let error: unknown;
    try {
      shouldRecomputeEarly({ ...base, ...override });
    } catch (e) {
      error = e;
    }
    expect(isDcError(error, 'E_INVALID_OPTION')).toBe(true);
  });

  it('names the bad input in the message', () => {
    expect(() => shouldRecomputeEarly({ ...base, beta: 0 })).toThrow(/\[dc:stampede\] `beta`/);
  });
});
