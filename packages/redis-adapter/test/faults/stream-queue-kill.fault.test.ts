/**
 * Tier N FAULTS W4: the write-behind queue (a Redis Stream, AOF on with `appendfsync everysec`)
 * while Redis is SIGKILLed and restarted under 10 enqueueing producers. Every enqueue Redis
 * acknowledged must be applied after recovery; an enqueue that failed or timed out is ambiguous
 * (it may be in the stream) and may be applied, but at most once per version.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { type RedisNode, startRedis } from '@dc/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStreamQueue, failFastRedisOptions } from '../../src/index';
import { killAndRestart, printCounters, r1, sleep, trackUnhandled } from '../chaos-helpers';

let redis: RedisNode;
beforeAll(async () => {
  redis = await startRedis({ args: ['--appendonly', 'yes', '--appendfsync', 'everysec'] });
});
afterAll(async () => {
  await redis?.stop();
});

describe('W4: write-behind queue, Redis SIGKILLed during enqueue (AOF everysec)', () => {
  it('applies every acked enqueue after the restart, and an ambiguous one at most once', async () => {
    const client = new Redis({ host: '127.0.0.1', port: redis.port, ...failFastRedisOptions(250) });
    client.on('error', () => {});
    await new Promise((resolve) => client.once('ready', resolve));
    const queue = createRedisStreamQueue<number>({ client, stream: 'w4', maxLen: 1_000_000 });
    const unhandled = trackUnhandled();

    // What the producers were told: version -> value for each acked enqueue.
    const acked = new Map<number, number>();
    let ambiguous = 0;
    let attempts = 0;
    let stop = false;
    const producer = async () => {
      while (!stop) {
        // Failed enqueues settle in microtasks while Redis is down; let the timers run.
        await nextTurn();
        const value = ++attempts;
        try {
          const queued = await queue.enqueue({ key: `user:${value % 200}`, op: 'set', value });
          acked.set(queued.version, value);
        } catch {
          ambiguous++;
        }
      }
    };
    const producers = Array.from({ length: 10 }, producer);
    await sleep(800);
    const ackedBeforeKill = acked.size;
    await killAndRestart(redis, 1_000, 1_000);
    stop = true;
    await Promise.all(producers);

    // Drain as a fresh consumer would: the source keeps the highest version per key and counts
    // every version it is handed twice.
    const started = performance.now();
    const applied = new Map<number, number>();
    const source = new Map<string, { version: number; value: number }>();
    let appliedTwice = 0;
    for (let round = 0; round < 10_000; round++) {
      const batch = await queue.claim('drainer', { count: 1_000, minIdleMs: 0 });
      if (batch.length === 0) break;
      for (const write of batch) {
        if (write.op !== 'set') throw new Error('the W4 load never deletes');
        if (applied.has(write.version)) {
          appliedTwice++;
          continue;
        }
        applied.set(write.version, write.value);
        const current = source.get(write.key);
        if (current === undefined || write.version > current.version) {
          source.set(write.key, { version: write.version, value: write.value });
        }
      }
      await queue.ack(batch.map((w) => w.version));
    }
    const drainMs = performance.now() - started;
    const stats = await queue.pending();

    let lostAcked = 0;
    let wrongValue = 0;
    for (const [version, value] of acked) {
      if (!applied.has(version)) lostAcked++;
      else if (applied.get(version) !== value) wrongValue++;
    }
    // Versions applied that no producer was told about: enqueues whose reply was lost.
    const ambiguousApplied = applied.size - (acked.size - lostAcked);
    printCounters({
      scenario: 'W4-stream-queue-redis-sigkill-aof-everysec',
      acked: acked.size,
      lostAcked,
      ambiguous,
      errorsSurfaced: unhandled.count(),
      ackedBeforeKill,
      ambiguousApplied,
      appliedTwice,
      wrongValue,
      pendingAfterDrain: stats.depth,
      drainMs: r1(drainMs),
    });
    unhandled.stop();
    expect(ackedBeforeKill).toBeGreaterThan(100);
    expect(acked.size).toBeGreaterThan(ackedBeforeKill);
    expect(ambiguous).toBeGreaterThan(0);
    expect({ lostAcked, wrongValue, appliedTwice, unhandled: unhandled.count() }).toEqual({
      lostAcked: 0,
      wrongValue: 0,
      appliedTwice: 0,
      unhandled: 0,
    });
    expect(ambiguousApplied).toBeGreaterThanOrEqual(0);
    expect(ambiguousApplied).toBeLessThanOrEqual(ambiguous);
    expect(stats).toMatchObject({ depth: 0, inFlight: 0 });
    await queue.close();
    client.disconnect();
  });
});
