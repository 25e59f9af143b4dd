/**
 * The `@dc/strategies` WriteQueue contract on a Redis Stream, and FAULTS W3 (K = 1,000): a
 * consumer process SIGKILLed with entries pending; after a restart every acked write reaches the
 * data source exactly once by version, pending ends at 0, and the source matches the model.
 */
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { isDcError } from '@dc/core';
import { type RedisNode, startRedis } from '@dc/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WriteQueue } from '../../strategies/src/index';
import { runWriteQueueContract } from '../../strategies/test/write-queue-contract';
import { createRedisStreamQueue } from '../src/index';
import { printCounters, r1, sleep } from './chaos-helpers';
import { APPLY_SCRIPT } from './fixtures/apply-script';
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

runWriteQueueContract(
  'createRedisStreamQueue',
  ({ maxSize }) => {
    const queue = createRedisStreamQueue({ client, stream: `q:${randomUUID()}`, maxLen: maxSize });
    return { queue: queue satisfies WriteQueue<unknown>, elapse: sleep };
  },
  { idleMs: 100 },
);

describe('createRedisStreamQueue', () => {
  it('rejects a full queue with E_BACKPRESSURE instead of trimming', async () => {
    const queue = createRedisStreamQueue({ client, stream: `bp:${randomUUID()}`, maxLen: 2 });
    await queue.enqueue({ key: 'a', op: 'set', value: 1 });
    await queue.enqueue({ key: 'b', op: 'set', value: 2 });
    const error = await queue.enqueue({ key: 'c', op: 'set', value: 3 }).catch((e: unknown) => e);
    expect(isDcError(error, 'E_BACKPRESSURE')).toBe(true);
    expect((await queue.pending()).depth).toBe(2);
    await queue.close();
  });

  it('delivers every acked write to the source exactly once by version after the consumer is SIGKILLed (W3, K=1000)', async () => {
    const K = 1_000;
    const stream = `w3:${randomUUID()}`;
    const queue = createRedisStreamQueue<number>({ client, stream, maxLen: 10_000 });
    const model = new Map<string, number>();
    const versionToKey = new Map<number, string>();
    for (let i = 0; i < K; i++) {
      const key = `user:${i % 200}`;
      const queued = await queue.enqueue({ key, op: 'set', value: i });
      model.set(key, i);
      versionToKey.set(queued.version, key);
    }
    const { file, dir } = bundleChildScript('./queue-consumer.ts');
    let pendingAtKill = 0;
    try {
      const child = fork(file, [String(redis.port), stream, 'doomed'], { stdio: 'ignore' });
      let batches = 0;
      const killed = new Promise<void>((resolve) => {
        child.on('message', (m: { type: string }) => {
          // Kill right after the 5th batch was claimed and before it was acked.
          if (m.type === 'claimed' && ++batches === 5) {
            child.kill('SIGKILL');
          }
        });
        child.on('exit', () => resolve());
      });
      await killed;
      pendingAtKill = (await queue.pending()).inFlight;
      expect(pendingAtKill).toBeGreaterThan(0);

      // The restarted consumer: takes over idle entries, then drains the rest.
      const started = performance.now();
      const minIdleMs = 200;
      await sleep(minIdleMs);
      for (let round = 0; round < 1_000; round++) {
        const batch = await queue.claim('recovered', { count: 100, minIdleMs });
        if (batch.length === 0 && (await queue.pending()).depth === 0) break;
        for (const w of batch) {
          if (w.op === 'set')
            await client.eval(
              APPLY_SCRIPT,
              3,
              `${stream}:src`,
              `${stream}:applied`,
              `${stream}:dups`,
              w.key,
              w.version,
              w.value,
            );
        }
        await queue.ack(batch.map((w) => w.version));
        if (batch.length === 0) await sleep(20);
      }
      const drainMs = performance.now() - started;

      const stats = await queue.pending();
      const applied = await client.scard(`${stream}:applied`);
      const duplicates = Number((await client.get(`${stream}:dups`)) ?? 0);
      const source = await client.hgetall(`${stream}:src`);
      let mismatches = 0;
      for (const [key, last] of model) {
        if (source[key] !== String(last)) mismatches++;
      }
      printCounters({
        scenario: 'W3-consumer-sigkill-K1000',
        acked: K,
        lostAcked: K - applied,
        staleReads: mismatches,
        pendingAtKill,
        duplicateAppliesSkipped: duplicates,
        pendingAfterDrain: stats.depth,
        recoveryDrainMs: r1(drainMs),
      });
      expect(applied).toBe(K);
      expect(stats).toMatchObject({ depth: 0, inFlight: 0 });
      expect(mismatches).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await queue.close();
    }
  });
});
