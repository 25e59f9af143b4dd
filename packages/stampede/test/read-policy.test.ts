import { createEntry, isDcError } from '@dc/core';
import { describe, expect, it } from 'vitest';
import { createReadPolicy } from '../src/index';

const entry = createEntry('v', { now: 0, ttlMs: 1_000, graceMs: 500, deltaMs: 100 });

describe('createReadPolicy', () => {
  it('returns miss for no entry and at or after expiresAt', () => {
    const policy = createReadPolicy();
    expect(policy(undefined, 0)).toBe('miss');
    expect(policy(entry, 1_500)).toBe('miss');
  });

  it('returns refresh-in-background from staleAt until expiresAt', () => {
    const policy = createReadPolicy();
    expect(policy(entry, 1_000)).toBe('refresh-in-background');
    expect(policy(entry, 1_499)).toBe('refresh-in-background');
  });

  it('returns refresh-early when XFetch fires on a fresh entry and fresh otherwise', () => {
    expect(createReadPolicy({ random: () => 1e-9 })(entry, 900)).toBe('refresh-early');
    expect(createReadPolicy({ random: () => 1 })(entry, 900)).toBe('fresh');
  });

  it('never refreshes early when earlyRecompute is false or the entry has no deltaMs', () => {
    expect(createReadPolicy({ earlyRecompute: false, random: () => 1e-9 })(entry, 900)).toBe('fresh');
    const noDelta = createEntry('v', { now: 0, ttlMs: 1_000 });
    expect(createReadPolicy({ random: () => 1e-9 })(noDelta, 900)).toBe('fresh');
  });

  it('applies beta: the same u recomputes at a larger distance with a larger beta', () => {
    const u = Math.exp(-1.5);
    // t = 200 ms before staleAt, deltaMs 100: needs beta * 1.5 >= 2.
    expect(createReadPolicy({ beta: 1, random: () => u })(entry, 800)).toBe('fresh');
    expect(createReadPolicy({ beta: 2, random: () => u })(entry, 800)).toBe('refresh-early');
  });

  it.each([
    ['beta 0', { beta: 0 }],
    ['beta NaN', { beta: Number.NaN }],
    ['random not a function', { random: 3 as never }],
    ['earlyRecompute not a boolean', { earlyRecompute: 'yes' as never }],
  ])('throws E_INVALID_OPTION for %s', (_label, options) => {
    let error: unknown;
    try {
      createReadPolicy(options);
    } catch (e) {
      error = e;
    }
    expect(isDcError(error, 'E_INVALID_OPTION')).toBe(true);
  });
});
