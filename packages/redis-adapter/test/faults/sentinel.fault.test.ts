/**
 * FAULTS S1, S2, S3 (tier N): a Sentinel-managed primary + replica + 3 sentinels
 * (`down-after-milliseconds` 1000) under a 20-worker write-through load through the store.
 *
 * - S1: the primary is SIGKILLed. Writes resume on the promoted replica; no caller sees an error
 *   within a 5 s retry budget; no WAIT-confirmed write is lost; unconfirmed losses are reported.
 * - S3: the killed primary is restarted; Sentinel turns it into a replica of the new primary and
 *   its dataset (DEBUG DIGEST, DBSIZE, sampled values) equals the new primary's.
 * - S2: `SENTINEL FAILOVER` while writing; the old primary stays alive and is demoted. No write is
 *   accepted by it once demoted; READONLY is handled by reconnecting; 0 errors surfaced. The
 *   writes it took between the promotion and its demotion are counted (see the README).
 *
 * Each case prints one JSON line of the FAULTS.md counters.
 */
import {
  type RedisNode,
  roleOf,
  type SentinelSetHandle,
  startRedis,
  startSentinelSet,
  waitFor,
  waitForRole,
} from '@dc/testkit';
import type { RedisOptions } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore, type RedisStore } from '../../src/index';
import { maxOf, p99, printCounters, r1, sleep, startLoopLag, trackUnhandled } from '../chaos-helpers';
import {
  type AckedWrite,
  findLostWrites,
  firstAckStartedAfter,
  longestAckGap,
  shortfallListener,
  startWriteThroughLoad,
  type WriteLoadResult,
} from './fixtures-sentinel/write-through-load';

const HARD = 250;
const DOWN_AFTER_MS = 1_000;
/** FAULTS S1: writes resume within down-after + 2 s (measured); the CI-style assertion limit. */
const RESUME_LIMIT_MS = 5_000;
const RETRY_BUDGET_MS = 5_000;
const WORKERS = 20;
/** A quarter of the writers ask for `durability: 'replicated'` (WAIT 1 100). */
const DURABLE_WORKERS = 5;

interface StorePair {
  plain: RedisStore<number>;
  durable: RedisStore<number>;
  shortfalls: Set<string>;
  close(): Promise<void>;
}

function openStores(set: SentinelSetHandle, namespace: string, extra: RedisOptions = {}): StorePair {
  const shortfalls = new Set<string>();
  const sentinel = { sentinels: set.sentinelAddresses(), name: set.masterName, options: extra };
  const common = { sentinel, namespace, failMode: 'closed', hardTimeoutMs: HARD } as const;
  const plain = createRedisStore<number>(common);
  const durable = createRedisStore<number>({
    ...common,
    durability: 'replicated',
    onEvent: shortfallListener(shortfalls),
  });
  return {
    plain,
    durable,
    shortfalls,
    close: () => Promise.all([plain.close(), durable.close()]).then(() => undefined),
  };
}

/** A fail-closed store on one data node, to read back what that node holds. */
async function readBack(node: RedisNode, namespace: string, writes: readonly AckedWrite[]) {
  const reader = createRedisStore<number>({ connection: node.url, namespace, failMode: 'closed' });
  try {
    return await findLostWrites(reader, writes);
  } finally {
    await reader.close();
  }
}

const count = (writes: readonly AckedWrite[], kind: AckedWrite['kind']) =>
  writes.filter((w) => w.kind === kind).length;

function startLoad(stores: StorePair, keyPrefix: string) {
  return startWriteThroughLoad({
    ...stores,
    workers: WORKERS,
    durableWorkers: DURABLE_WORKERS,
    retryBudgetMs: RETRY_BUDGET_MS,
    keyPrefix,
  });
}

/** Until `n` writes of each kind the warm-up needs were acknowledged. */
async function warmUp(result: WriteLoadResult, n = 500): Promise<void> {
  await waitFor(() => count(result.acked, 'wait-confirmed') >= n && count(result.acked, 'primary') >= n, {
    timeoutMs: 15_000,
    what: `${n} acknowledged writes of each kind`,
  });
}

describe('S1 + S3: Sentinel primary SIGKILL, then its restart', () => {
  let set: SentinelSetHandle;
  beforeAll(async () => {
    set = await startSentinelSet({ downAfterMs: DOWN_AFTER_MS });
  });
  afterAll(async () => {
    await set?.stop();
  });

  it('S1: writes resume on the promoted replica, 0 errors within the retry budget, 0 WAIT-confirmed writes lost', async () => {
    const stores = openStores(set, 's1');
    const unhandled = trackUnhandled();
    const lag = startLoopLag();
    const load = startLoad(stores, 's1');
    let result: WriteLoadResult;
    let killedAt = 0;
    let resumedAt = -1;
    try {
      await warmUp(load.result);
      killedAt = performance.now();
      await set.primary.kill();
      const killDoneAt = performance.now();
      // Any write sent after the old primary's process has exited was taken by the new one.
      resumedAt = await waitFor(
        () => {
          const at = firstAckStartedAfter(load.result.acked, killDoneAt);
          return at < 0 ? undefined : at;
        },
        { timeoutMs: 20_000, intervalMs: 10, what: 'a write acknowledged after the kill' },
      );
      // Load duration, not a wait for a condition: keep writing a while on the new primary (its
      // WAITs now report 0 replicas: none is left).
      await sleep(1_000);
    } finally {
      result = await load.stop();
      unhandled.stop();
      await stores.close();
    }
    const loopLagMaxMs = lag.stop();
    const newPrimary = await set.currentPrimary();
    expect(newPrimary.port).toBe(set.replica.port);

    const lost = await readBack(newPrimary, 's1', result.acked);
    const lostConfirmed = count(lost, 'wait-confirmed');
    const confirmedBeforeKill = result.acked.filter(
      (w) => w.kind === 'wait-confirmed' && w.ackedAt < killedAt,
    ).length;
    // Writes that gave up after the budget but are on the new primary anyway.
    const ambiguousFound =
      result.failed.length === 0
        ? 0
        : result.failed.length -
          (
            await readBack(
              newPrimary,
              's1',
              result.failed.map((f) => ({ ...f, kind: 'primary', attemptAt: 0, ackedAt: 0 })),
            )
          ).length;
    const resumeMs = resumedAt - killedAt;
    const errorsSurfaced = result.failed.length + result.untyped;
    printCounters({
      scenario: 'S1-sentinel-primary-sigkill-write-through',
      acked: result.acked.length,
      errorsSurfaced,
      unhandled: unhandled.count(),
      maxLatMs: r1(maxOf(result.writeLatencies)),
      p99LatMs: r1(p99(result.writeLatencies)),
      errWindowMs: r1(longestAckGap(result.acked, killedAt, resumedAt + 1)),
      lostAcked: lostConfirmed,
      ambiguous: ambiguousFound,
      writesResumedAfterMs: r1(resumeMs),
      waitConfirmed: count(result.acked, 'wait-confirmed'),
      waitConfirmedBeforeKill: confirmedBeforeKill,
      ackedWithoutWait: count(result.acked, 'primary'),
      lostWithoutWait: count(lost, 'primary'),
      // Reported `replicas=0` by the store (the new primary has no replica); some of these never
      // reached it: see the "WAIT without a replica" case below.
      waitShortfalls: count(result.acked, 'wait-shortfall'),
      waitShortfallsMissing: count(lost, 'wait-shortfall'),
      retries: result.retries,
      attemptErrors: JSON.stringify(result.attemptErrors),
      maxAttemptMs: r1(maxOf(result.attemptLatencies)),
      loopLagMaxMs,
    });
    if (result.otherErrors.length > 0) console.log('unclassified attempt errors:', result.otherErrors);
    expect(confirmedBeforeKill).toBeGreaterThan(0);
    expect(resumeMs).toBeGreaterThan(0);
    expect(resumeMs).toBeLessThanOrEqual(RESUME_LIMIT_MS);
    expect(result.failed.slice(0, 3)).toEqual([]);
    expect(result.untyped).toBe(0);
    expect(unhandled.count()).toBe(0);
    expect(lostConfirmed, 'WAIT-confirmed writes lost').toBe(0);
    // Every single attempt is still bounded by the store (hard timeout + WAIT time + slack).
    expect(maxOf(result.attemptLatencies)).toBeLessThanOrEqual(HARD + 100 + 25 + 50 + loopLagMaxMs);
  });

  it('S3: the restarted old primary rejoins as a replica with the new primary’s dataset', async () => {
    const oldPrimary = set.primary;
    if (oldPrimary.state === 'running') {
      // S1 did not get as far as the kill: make the fault here.
      await oldPrimary.kill();
      await waitFor(async () => (await set.currentPrimary()).port === set.replica.port, {
        timeoutMs: 20_000,
        what: 'the promotion of the replica',
      });
    }
    const newPrimary = await set.currentPrimary();
    expect(newPrimary.port).toBe(set.replica.port);
    const keysOnNewPrimary = Number(await newPrimary.command('DBSIZE'));

    const restartAt = performance.now();
    // Without persistence it comes back empty and as a primary until Sentinel reconverts it.
    await oldPrimary.restart();
    // Sentinel reconverts it on its periodic INFO poll (10 s outside a failover), after the
    // instance has reported its role for 8 s (SENTINEL_PUBLISH_PERIOD * 4); more under CPU load.
    await waitFor(
      async () => {
        const info = await oldPrimary.info('replication');
        return (
          info.role === 'slave' &&
          info.master_port === String(newPrimary.port) &&
          info.master_link_status === 'up'
        );
      },
      { timeoutMs: 40_000, intervalMs: 20, what: 'the old primary to sync as a replica of the new one' },
    );
    const rejoinedAt = performance.now();
    const digests = await waitFor(
      async () => {
        const [mine, theirs] = await Promise.all([
          oldPrimary.command('DEBUG', 'DIGEST'),
          newPrimary.command('DEBUG', 'DIGEST'),
        ]);
        return mine === theirs ? mine : undefined;
      },
      { timeoutMs: 5_000, intervalMs: 10, what: 'DEBUG DIGEST of the rejoined replica to match' },
    );
    const matchedAt = performance.now();
    const [dbsizeOld, dbsizeNew] = await Promise.all([
      oldPrimary.command('DBSIZE'),
      newPrimary.command('DBSIZE'),
    ]);
    // A sampled value check on top of the digest: 200 keys read as values from both nodes.
    const sample = (await newPrimary.call(['SCAN', '0', 'COUNT', '400'])) as [string, string[]];
    const keys = sample[1].slice(0, 200);
    const [fromOld, fromNew] = await Promise.all(
      [oldPrimary, newPrimary].map((node) => node.call(['MGET', ...keys])),
    );
    printCounters({
      scenario: 'S3-old-primary-rejoins',
      rejoinedAfterRestartMs: r1(rejoinedAt - restartAt),
      digestMatchedAfterRejoinMs: r1(matchedAt - rejoinedAt),
      keys: Number(dbsizeNew),
      sampledKeys: keys.length,
    });
    expect(digests).not.toBe('0000000000000000000000000000000000000000');
    expect(keysOnNewPrimary).toBeGreaterThan(0);
    expect(dbsizeOld).toBe(dbsizeNew);
    expect(keys.length).toBeGreaterThan(0);
    expect(fromOld).toEqual(fromNew);
    expect(await roleOf(oldPrimary)).toBe('slave');
  });
});

interface ForcedFailoverRun {
  namespace: string;
  result: WriteLoadResult;
  /** Acknowledged writes missing on the new primary afterwards. */
  lost: AckedWrite[];
  oldPrimary: RedisNode;
  newPrimary: RedisNode;
  failoverAt: number;
  promotedAt: number;
  demotedAt: number;
  unhandled: number;
}

/**
 * `SENTINEL FAILOVER` under load: the replica is promoted at once, while the old primary stays a
 * primary until Sentinel reconverts it (~10 s later, see S3). The load runs until 1.5 s after
 * that demotion.
 */
async function forcedFailover(
  set: SentinelSetHandle,
  namespace: string,
  extra: RedisOptions,
): Promise<ForcedFailoverRun> {
  const oldPrimary = await set.currentPrimary();
  const newPrimary = oldPrimary === set.primary ? set.replica : set.primary;
  await waitForRole(newPrimary, 'slave', 20_000);
  const stores = openStores(set, namespace, extra);
  const unhandled = trackUnhandled();
  const load = startLoad(stores, namespace);
  let result: WriteLoadResult;
  let failoverAt = 0;
  let promotedAt = 0;
  let demotedAt = 0;
  try {
    await warmUp(load.result);
    failoverAt = performance.now();
    const sentinel = set.sentinels[0] as RedisNode;
    expect(await sentinel.command('SENTINEL', 'FAILOVER', set.masterName)).toBe('OK');
    await waitFor(async () => (await roleOf(newPrimary)) === 'master', {
      timeoutMs: 20_000,
      intervalMs: 5,
      what: 'the promotion of the replica',
    });
    promotedAt = performance.now();
    await waitFor(async () => (await roleOf(oldPrimary)) === 'slave', {
      timeoutMs: 40_000,
      intervalMs: 5,
      what: 'the demotion of the old primary',
    });
    demotedAt = performance.now();
    // Load duration: writes sent after the demotion are what the check below is about.
    await sleep(1_500);
  } finally {
    result = await load.stop();
    unhandled.stop();
    await stores.close();
  }
  // Once the old primary has synced from the new one, what it took alone is gone.
  await waitForRole(oldPrimary, 'slave', 20_000);
  const lost = await readBack(newPrimary, namespace, result.acked);
  return {
    namespace,
    result,
    lost,
    oldPrimary,
    newPrimary,
    failoverAt,
    promotedAt,
    demotedAt,
    unhandled: unhandled.count(),
  };
}

/**
 * Writes the store acknowledged (SET reply, and WAIT >= 1 where asked) that the new primary does
 * not hold. Writes reported as `replicas=0` are left out: the store may report that before their
 * SET ran (see the last case of this file), so their loss says nothing about the old primary.
 */
const ackedAndLost = (run: ForcedFailoverRun, from: number) =>
  run.lost.filter((w) => w.kind !== 'wait-shortfall' && w.attemptAt >= from);

/** Prints the counters and checks what S2 requires of every run. */
async function checkForcedFailover(scenario: string, run: ForcedFailoverRun) {
  const { result, lost, promotedAt, demotedAt, failoverAt, oldPrimary, newPrimary } = run;
  const acceptedAfterPromotion = ackedAndLost(run, promotedAt);
  const sentAfterDemotion = result.acked.filter(
    (w) => w.kind !== 'wait-shortfall' && w.attemptAt >= demotedAt,
  );
  printCounters({
    scenario,
    acked: result.acked.length,
    errorsSurfaced: result.failed.length + result.untyped,
    unhandled: run.unhandled,
    maxLatMs: r1(maxOf(result.writeLatencies)),
    p99LatMs: r1(p99(result.writeLatencies)),
    lostAcked: count(lost, 'wait-confirmed'),
    promotedAfterMs: r1(promotedAt - failoverAt),
    oldPrimaryDemotedAfterMs: r1(demotedAt - failoverAt),
    acceptedByOldPrimaryAfterDemotion: ackedAndLost(run, demotedAt).length,
    // The known gap (see the it.fails case): acknowledged by the old primary after the promotion.
    acceptedByOldPrimaryAfterPromotion: acceptedAfterPromotion.length,
    lastSuchWriteAfterPromotionMs: r1(maxOf(acceptedAfterPromotion.map((w) => w.ackedAt - promotedAt))),
    ackedWithoutWait: count(result.acked, 'primary'),
    lostWithoutWait: count(lost, 'primary'),
    waitShortfalls: count(result.acked, 'wait-shortfall'),
    waitShortfallsMissing: count(lost, 'wait-shortfall'),
    retries: result.retries,
    readonlyRetried: result.attemptErrors.readonly ?? 0,
    attemptErrors: JSON.stringify(result.attemptErrors),
  });
  if (result.otherErrors.length > 0) console.log('unclassified attempt errors:', result.otherErrors);

  // The old primary is a replica of the new one...
  const info = await oldPrimary.info('replication');
  expect(info.role).toBe('slave');
  expect(info.master_port).toBe(String(newPrimary.port));
  // ...and took none of the writes sent after its demotion: each one is on the new primary,
  // and read back from the old primary too, now that it replicates the new one.
  expect(sentAfterDemotion.length).toBeGreaterThan(0);
  expect(ackedAndLost(run, demotedAt).length, 'acknowledged writes sent after the demotion, lost').toBe(0);
  await waitFor(async () => (await readBack(oldPrimary, run.namespace, sentAfterDemotion)).length === 0, {
    timeoutMs: 5_000,
    what: 'the writes sent after the demotion to be readable on the old primary (now a replica)',
  });
  expect(count(lost, 'wait-confirmed'), 'WAIT-confirmed writes lost').toBe(0);
  // READONLY (or, as Sentinel closes the demoted node's client connections, a dropped
  // connection) is retried on the new primary within the budget: no caller sees an error.
  expect(result.failed.slice(0, 3)).toEqual([]);
  expect(result.untyped).toBe(0);
  expect(run.unhandled).toBe(0);
}

describe('S2: SENTINEL FAILOVER while writing (the old primary stays up)', () => {
  let set: SentinelSetHandle;
  let defaults: ForcedFailoverRun | undefined;
  beforeAll(async () => {
    set = await startSentinelSet({ downAfterMs: DOWN_AFTER_MS });
  });
  afterAll(async () => {
    await set?.stop();
  });

  it('the demoted old primary accepts 0 writes, its clients move to the new primary, 0 errors surfaced, 0 WAIT-confirmed writes lost', async () => {
    defaults = await forcedFailover(set, 's2', {});
    await checkForcedFailover('S2-sentinel-failover-default-options', defaults);
  });

  // Known gap, kept visible: from the promotion until the store reconnects, the old primary is
  // still a primary and acknowledges writes, which Redis drops when it resyncs from the new one.
  // The store now sets ioredis' `failoverDetector` (reconnect on `+switch-master`), which shrank the
  // window from ~11 s (until Sentinel demotes the old primary) to ~1 s; only a server-side fence
  // (`min-replicas-to-write`) closes it. See the README.
  it.fails('KNOWN GAP: the old primary accepts 0 writes once the replica is promoted', () => {
    expect(defaults).toBeDefined();
    const run = defaults as ForcedFailoverRun;
    expect(ackedAndLost(run, run.promotedAt).length, 'writes the old primary acknowledged, lost').toBe(0);
  });

  it('same, with ioredis `failoverDetector: true` in `sentinel.options` (measures the gap it leaves)', async () => {
    const run = await forcedFailover(set, 's2-detector', { failoverDetector: true });
    await checkForcedFailover('S2-sentinel-failover-failoverDetector', run);
  });
});

/**
 * Found while running S1: after the failover the new primary has no replica, so every WAIT of
 * the `durability: 'replicated'` writers times out. Redis blocks a connection for the length of a
 * WAIT, so later SETs on the writing connection queue behind earlier WAITs; the store used to stop
 * waiting after `waitTimeoutMs + 25 ms` and report `replicas=0` ("reached the primary") for writes
 * whose SET had not run yet (42-44 of 55 such reports were false). The WAIT bound now starts when
 * the SET is answered, an unanswered SET is the operation's hard timeout (a typed error in
 * fail-closed mode), and durable writes run on their own connections (four lanes), so neither
 * other writes nor reads queue behind a blocking WAIT. Reproduced on one standalone node.
 */
describe('durability replicated on a primary without a replica (found by S1)', () => {
  it('every write reported as reaching the primary with 0 replicas is on the primary', async () => {
    const redis = await startRedis();
    const shortfalls = new Set<string>();
    const store = createRedisStore<number>({
      connection: redis.url,
      namespace: 'wait',
      failMode: 'closed',
      durability: 'replicated',
      onEvent: shortfallListener(shortfalls),
    });
    const reader = createRedisStore<number>({ connection: redis.url, namespace: 'wait', failMode: 'closed' });
    try {
      const load = startWriteThroughLoad({
        plain: store,
        durable: store,
        shortfalls,
        workers: DURABLE_WORKERS,
        durableWorkers: DURABLE_WORKERS,
        retryBudgetMs: 0,
        keyPrefix: 'wait',
      });
      // Bounded: a busy box may report fewer than 40 in the time.
      const collectUntil = performance.now() + 8_000;
      while (shortfalls.size < 40 && performance.now() < collectUntil) await sleep(50);
      // A read on the same store (it reads from the writing connection) meanwhile.
      const readStartedAt = performance.now();
      const readOutcome = await store.get('wait:w0:0').then(
        () => 'ok',
        (error: Error) => error.message,
      );
      const readMs = performance.now() - readStartedAt;
      const result = await load.stop();
      // Read at once on another connection, which no WAIT blocks.
      const reported = result.acked.filter((w) => w.kind === 'wait-shortfall');
      const missing = await findLostWrites(reader, reported);
      console.log(
        JSON.stringify({
          scenario: 'WAIT-without-replica',
          reportedReachedPrimary: reported.length,
          missingRightAfter: missing.length,
          readOnWriterMs: r1(readMs),
          readOutcome,
        }),
      );
      expect(reported.length).toBeGreaterThan(0);
      expect(missing.length, 'writes reported as on the primary that are not').toBe(0);
      // Durable writes run on their own connections: a read never queues behind a WAIT.
      expect(readOutcome).toBe('ok');
    } finally {
      await Promise.all([store.close(), reader.close()]);
      await redis.stop();
    }
  });
});
