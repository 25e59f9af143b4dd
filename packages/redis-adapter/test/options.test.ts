import { isDcError } from '@dc/core';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import {
  createRedisStore,
  DEFAULT_REDIS_STORE_OPTIONS,
  reconnectDelayMs,
  resolveRedisStoreOptions,
} from '../src/index';

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return isDcError(error) ? error.code : 'untyped';
  }
  return 'none';
};

describe('resolveRedisStoreOptions', () => {
  it('applies the documented defaults', () => {
    const resolved = resolveRedisStoreOptions({ connection: 'redis://127.0.0.1:1' });
    expect(resolved).toMatchObject({ ...DEFAULT_REDIS_STORE_OPTIONS, topology: 'connection' });
    expect(Object.isFrozen(DEFAULT_REDIS_STORE_OPTIONS)).toBe(true);
  });

  it('rejects bad options with E_INVALID_OPTION before opening a connection', () => {
    const base = { connection: 'redis://127.0.0.1:1' };
    for (const bad of [
      {},
      { connection: 'redis://x', cluster: { nodes: [{ host: 'x', port: 1 }] } },
      { ...base, namespace: 'a{b}' },
      { ...base, namespace: '\uD800' },
      { ...base, failMode: 'maybe' },
      { ...base, softTimeoutMs: 0 },
      { ...base, softTimeoutMs: 300, hardTimeoutMs: 200 },
      { ...base, hardTimeoutMs: Number.NaN },
      { ...base, breakerFailureThreshold: 0 },
      { ...base, readFrom: 'nearest' },
      { ...base, durability: 'fsync' },
      { ...base, waitReplicas: 0 },
      { ...base, serializer: {} },
      { ...base, onEvent: 'x' },
      { client: {} as Redis, replicas: ['redis://x'] },
      { shards: [] },
    ]) {
      expect(
        code(() => resolveRedisStoreOptions(bad as never)),
        JSON.stringify(bad),
      ).toBe('E_INVALID_OPTION');
    }
  });
});

describe('createRedisStore', () => {
  it('rejects a bad key with E_INVALID_KEY before any I/O', async () => {
    const client = new Redis({ lazyConnect: true, port: 1 });
    const store = createRedisStore({ client });
    for (const key of ['', 'x'.repeat(1025)]) {
      const error = await store.get(key).catch((e: unknown) => e);
      expect(isDcError(error, 'E_INVALID_KEY')).toBe(true);
    }
    await store.close();
    client.disconnect();
  });
});

describe('reconnectDelayMs', () => {
  it('doubles from 50 ms and caps at 500 ms plus at most 50 ms of jitter', () => {
    expect([0, 1, 2, 3, 4, 10, 100].map((n) => reconnectDelayMs(n, () => 0))).toEqual([
      50, 100, 200, 400, 500, 500, 500,
    ]);
    expect(reconnectDelayMs(100, () => 0.999)).toBe(549);
  });
});
