import { isDcError } from '@dc/core';
import { describe, expect, it } from 'vitest';
import {
  runCacheStoreConformance,
  runningProcessCount,
  startCluster,
  startRedis,
  startSentinelSet,
} from '../src/index';

const invalid = (error: unknown) => isDcError(error, 'E_INVALID_OPTION');

// Validation happens before any process is started, so none of these spawn a server.
describe('startCluster', () => {
  it.each([0, -1, 1.5, Number.NaN])(
    'rejects nodeTimeoutMs %s with E_INVALID_OPTION',
    async (nodeTimeoutMs) => {
      await expect(startCluster({ nodeTimeoutMs })).rejects.toSatisfy(invalid);
      expect(runningProcessCount()).toBe(0);
    },
  );
});

describe('startSentinelSet', () => {
  it.each([
    [{ downAfterMs: 0 }, /downAfterMs/],
    [{ failoverTimeoutMs: -5 }, /failoverTimeoutMs/],
    [{ quorum: 4 }, /quorum/],
    [{ quorum: 0 }, /quorum/],
    [{ masterName: 'my master' }, /masterName/],
  ])('rejects %o with E_INVALID_OPTION naming the option', async (options, name) => {
    const outcome = await startSentinelSet(options).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(invalid(outcome)).toBe(true);
    expect((outcome as Error).message).toMatch(name);
    expect(runningProcessCount()).toBe(0);
  });
});

describe('startRedis', () => {
  it('rejects a username without a password with E_INVALID_OPTION', async () => {
    await expect(startRedis({ username: 'admin' })).rejects.toSatisfy(invalid);
  });
});

describe('runCacheStoreConformance', () => {
  it('throws E_INVALID_OPTION for a non-positive realTimeTtlMs before registering anything', () => {
    expect(() => runCacheStoreConformance('x', async () => ({}) as never, { realTimeTtlMs: 0 })).toThrow(
      /realTimeTtlMs/,
    );
  });
});
