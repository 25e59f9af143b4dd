/**
 * FAULTS S1 (short): the Sentinel-managed primary is SIGKILLed under write load. With fail-open
 * defaults no error reaches callers, no call outlives the hard timeout, and writes succeed again
 * once Sentinel has promoted the replica (CI limit 5 s; `down-after-milliseconds` 1000).
 */
import { createEntry } from '@dc/core';
import { type SentinelSetHandle, startSentinelSet } from '@dc/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore } from '../src/index';
import { maxOf, printCounters, r1, sleep, startLoopLag, trackUnhandled } from './chaos-helpers';

let sentinels: SentinelSetHandle;
beforeAll(async () => {
  sentinels = await startSentinelSet();
});
afterAll(async () => {
  await sentinels?.stop();
});

describe('createRedisStore over Sentinel', () => {
  it('surfaces no error and resumes writes within 5 s when the primary is killed (fail-open)', async () => {
    const HARD = 250;
    const store = createRedisStore<number>({
      sentinel: { sentinels: sentinels.sentinelAddresses(), name: sentinels.masterName },
      namespace: 's1',
      softTimeoutMs: 50,
      hardTimeoutMs: HARD,
    });
    const unhandled = trackUnhandled();
    const lag = startLoopLag();
    let running = true;
    let acked = 0;
    let rejected = 0;
    const latencies: number[] = [];
    const workers = Array.from({ length: 10 }, async (_, w) => {
      for (let i = 0; running && i < 1_000_000; i++) {
        const t0 = performance.now();
        try {
          await store.set(`w${w}-${i % 200}`, createEntry(i, { now: Date.now(), ttlMs: 60_000 }));
          acked++;
        } catch {
          rejected++;
        }
        latencies.push(performance.now() - t0);
        if (i % 8 === 0) await new Promise((r) => setImmediate(r));
      }
    });
    // Warm up until a write has really reached the primary.
    for (let i = 0; i < 100 && (await store.get('w0-0')) === undefined; i++) await sleep(20);
    const killedAt = performance.now();
    await sentinels.primary.kill();
    let resumedAt = 0;
    for (let i = 0; i < 400 && resumedAt === 0; i++) {
      await store.set('probe', createEntry(i, { now: Date.now(), ttlMs: 60_000 }));
      if ((await store.get('probe'))?.value === i) resumedAt = performance.now();
      else await sleep(25);
    }
    running = false;
    await Promise.all(workers);
    unhandled.stop();
    const loopLagMaxMs = lag.stop();
    const resumeMs = resumedAt === 0 ? -1 : resumedAt - killedAt;
    const newPrimary = await sentinels.currentPrimary();
    printCounters({
      scenario: 'S1-short-sentinel-primary-kill-fail-open',
      acked,
      errorsSurfaced: rejected,
      unhandled: unhandled.count(),
      maxLatMs: r1(maxOf(latencies)),
      errWindowMs: r1(resumeMs),
      loopLagMaxMs,
      writesResumedAfterMs: r1(resumeMs),
      promoted: String(newPrimary.port === sentinels.replica.port),
    });
    expect(rejected).toBe(0);
    expect(unhandled.count()).toBe(0);
    expect(maxOf(latencies)).toBeLessThanOrEqual(HARD + 20 + loopLagMaxMs);
    expect(resumeMs).toBeGreaterThan(0);
    expect(resumeMs).toBeLessThanOrEqual(5_000);
    await store.close();
  });
});
