/**
 * The `@dc/stampede` DistributedLock and LeaseStore contract suites against real Redis
 * (standalone), and a lock race between separate processes.
 */
import { fork } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createEntry } from '@dc/core';
import { type RedisNode, startRedis } from '@dc/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLeaseContract } from '../../stampede/test/lease-contract';
import { runDistributedLockContract } from '../../stampede/test/lock-contract';
import { createRedisLeaseStore, createRedisLock, namespacedKey } from '../src/index';
import { bundleChildScript } from './fixtures/bundle-child';

let redis: RedisNode;
let client: Redis;
beforeAll(async () => {
  redis = await startRedis();
  client = new Redis(redis.port, '127.0.0.1');
  client.on('error', () => {});
});
afterAll(async () => {
  client?.disconnect();
  await redis?.stop();
});

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

runDistributedLockContract('createRedisLock', () => ({
  lock: createRedisLock({ client }),
  advance: sleep,
}));

runLeaseContract('createRedisLeaseStore', () => ({
  leases: createRedisLeaseStore<string>({ client }),
  now: () => Date.now(),
  advance: sleep,
}));

describe('createRedisLeaseStore', () => {
  it('rejects the late fill of a loader whose lease a delete voided, keeping nothing older than the delete', async () => {
    const leases = createRedisLeaseStore<string>({ client, namespace: 'late-fill' });
    const read = await leases.get('k', { leaseTtlMs: 5_000 });
    if (read.status !== 'lease') throw new Error(`expected a lease, got ${read.status}`);
    await leases.delete('k');
    await expect(
      leases.fill(read.token, createEntry('before-delete', { now: Date.now(), ttlMs: 60_000 })),
    ).resolves.toBe(false);
    expect(await client.hget(namespacedKey('late-fill', 'k'), 'v')).toBeNull();
    await leases.close();
  });
});

describe('createRedisLock across processes', () => {
  it('grants the lock to exactly one of four racing processes', async () => {
    const { file, dir } = bundleChildScript('./lock-child.ts');
    const key = `race-${Date.now()}`;
    try {
      const children = Array.from({ length: 4 }, () =>
        fork(file, [String(redis.port), key], { stdio: 'ignore' }),
      );
      const results = children.map(
        (child) =>
          new Promise<{ holder: boolean; id: string | null }>((resolve, reject) => {
            child.on('message', (m: { type: string; holder: boolean; id: string | null }) => {
              if (m.type === 'result') resolve(m);
            });
            child.on('error', reject);
          }),
      );
      await Promise.all(
        children.map(
          (child) =>
            new Promise<void>((resolve) =>
              child.on('message', (m: { type: string }) => m.type === 'ready' && resolve()),
            ),
        ),
      );
      for (const child of children) child.send({ type: 'go' });
      const outcomes = await Promise.all(results);
      expect(outcomes.filter((o) => o.holder)).toHaveLength(1);
      const holder = outcomes.find((o) => o.holder);
      expect(await client.get(namespacedKey('dc-lock', key))).toBe(holder?.id);
      await Promise.all(
        children.map((c) => new Promise((r) => (c.exitCode === null ? c.on('exit', r) : r(null)))),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
