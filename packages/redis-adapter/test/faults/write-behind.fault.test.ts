/**
 * Tier N FAULTS W3 at K = 10,000: an app process running `@dc/strategies` write-behind over the
 * Redis Streams queue is SIGKILLed after all K writes were acknowledged (XADD + cache), with a
 * batch applied to the source of record but not yet acked in the stream. A restarted app (same
 * consumer name) drains the rest. The source must end at the last version of every key,
 * re-applies must be same-version duplicates of what the dead app held, nothing may stay
 * pending, and the drain must run at ≥ 1,000 queue entries/s.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { type RedisNode, startRedis } from '@dc/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore, createRedisStreamQueue } from '../../src/index';
import { printCounters, r1 } from '../chaos-helpers';
import { bundleChildScript } from '../fixtures/bundle-child';
import { sourceKeys, type VersionedValue, versionOf } from './fixtures-cluster/versioned-source';

interface AppMessage {
  type: 'applied' | 'acked' | 'drained';
  count?: number;
  errors?: number;
  unhandled?: number;
  enqueueMs?: number;
  drainMs?: number;
  remaining?: number;
  metrics?: { flushed: number; sourceWrites: number; coalesced: number; retried: number };
}

/** A forked app whose IPC messages and stderr the test watches; killed by pid in `finally`. */
function startApp(file: string, args: string[]) {
  const child: ChildProcess = fork(file, args, { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    if (stderr.length < 20_000) stderr += chunk.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  /** Resolves with the first message `match` accepts; rejects on exit or after `timeoutMs`. */
  const next = (match: (m: AppMessage) => boolean, timeoutMs: number, what: string) =>
    new Promise<AppMessage>((resolve, reject) => {
      const timer = setTimeout(
        () => done(new Error(`no ${what} within ${timeoutMs} ms\n${stderr}`)),
        timeoutMs,
      );
      const onMessage = (m: AppMessage) => {
        if (match(m)) done(undefined, m);
      };
      const onExit = () => done(new Error(`app exited before ${what}\n${stderr}`));
      const done = (error?: Error, m?: AppMessage) => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        if (error) reject(error);
        else resolve(m as AppMessage);
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  return { child, exited, next, stderr: () => stderr };
}

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

describe('W3: write-behind app SIGKILLed with entries pending, K = 10,000', () => {
  it('recovers all K writes into the source by version, re-applies only what was pending, drains to 0 at >= 1k entries/s', async () => {
    const K = 10_000;
    const KEYS = 2_000;
    const ROUNDS = K / KEYS;
    const stream = `w3:${randomUUID()}`;
    const queue = createRedisStreamQueue<VersionedValue>({ client, stream, maxLen: 2 * K });
    const { file, dir } = bundleChildScript('../faults/fixtures-cluster/write-behind-app.ts');
    const apps: Array<ReturnType<typeof startApp>> = [];
    try {
      const args = (mode: string) => [String(redis.port), stream, mode, String(K), String(KEYS), '40'];
      const doomed = startApp(file, args('doomed'));
      apps.push(doomed);
      const acked = await doomed.next((m) => m.type === 'acked', 90_000, 'acked');
      // Kill right after the flusher applied a batch to the source and before it acks it.
      await doomed.next((m) => m.type === 'applied', 30_000, 'an applied batch after all writes were acked');
      doomed.child.kill('SIGKILL');
      await doomed.exited;

      const atKill = await queue.pending();
      const [src, ver, stats] = sourceKeys(stream);
      const appliedBeforeKill = Number((await client.hget(stats, 'applied')) ?? 0);

      const recovered = startApp(file, args('recover'));
      apps.push(recovered);
      const drained = await recovered.next((m) => m.type === 'drained', 120_000, 'drained');
      await recovered.exited;

      const after = await queue.pending();
      const versions = await client.hgetall(ver);
      const payloads = await client.hgetall(src);
      const sourceStats = await client.hgetall(stats);
      const duplicates = Number(sourceStats.duplicates ?? 0);
      const stale = Number(sourceStats.stale ?? 0);
      let lostAcked = 0;
      let mismatches = 0;
      const expected = (k: number) => versionOf(ROUNDS - 1, k, KEYS);
      for (let k = 0; k < KEYS; k++) {
        const key = `user:${k}`;
        const version = Number(versions[key] ?? -1);
        if (version < expected(k)) lostAcked++;
        if (version !== expected(k) || payloads[key] !== JSON.stringify({ v: expected(k) })) mismatches++;
      }
      // The cache tier holds the last version too (written on every acknowledged set).
      const cache = createRedisStore<VersionedValue>({
        client,
        namespace: 'w3',
        hardTimeoutMs: 2_000,
        failMode: 'closed',
      });
      const keys = Array.from({ length: KEYS }, (_, k) => `user:${k}`);
      const cached = await cache.getMany(keys);
      const cacheMismatches = cached.filter((e, k) => e?.value.v !== expected(k)).length;
      const cacheMisses = cached.filter((e) => e === undefined).length;
      await cache.close();

      const drainMs = drained.drainMs as number;
      const entriesPerSec = (atKill.depth / drainMs) * 1_000;
      const stderrLines = [doomed, recovered].flatMap((app) =>
        app
          .stderr()
          .split('\n')
          .filter((line) => /Unhandled error event|Error/.test(line)),
      );
      printCounters({
        scenario: 'W3-write-behind-app-sigkill-K10000',
        acked: acked.count as number,
        errorsSurfaced: (acked.errors as number) + stderrLines.length,
        unhandled: (acked.unhandled as number) + (drained.unhandled as number),
        lostAcked,
        staleReads: mismatches,
        enqueueMs: r1(acked.enqueueMs as number),
        pendingAtKill: atKill.inFlight,
        depthAtKill: atKill.depth,
        appliedBeforeKill,
        duplicateApplies: duplicates,
        staleApplies: stale,
        pendingAfterDrain: after.depth,
        inFlightAfterDrain: after.inFlight,
        drainMs: r1(drainMs),
        drainEntriesPerSec: Math.round(entriesPerSec),
        drainSourceWrites: drained.metrics?.sourceWrites ?? -1,
        drainCoalesced: drained.metrics?.coalesced ?? -1,
        drainRetries: drained.metrics?.retried ?? -1,
        cacheMismatches,
        cacheMisses,
      });
      expect(acked).toMatchObject({ count: K, errors: 0, unhandled: 0 });
      expect(drained).toMatchObject({ remaining: 0, unhandled: 0 });
      expect(stderrLines).toEqual([]);
      // The kill landed with entries pending, and left work for the restarted app.
      expect(atKill.inFlight).toBeGreaterThanOrEqual(1);
      expect(atKill.depth).toBeGreaterThan(1_000);
      expect({ lostAcked, mismatches, cacheMismatches }).toEqual({
        lostAcked: 0,
        mismatches: 0,
        cacheMismatches: 0,
      });
      expect(after).toMatchObject({ depth: 0, inFlight: 0 });
      // Re-applies: only entries the dead app had applied but not acked, and never an older version.
      expect(duplicates).toBeLessThanOrEqual(atKill.inFlight);
      expect(stale).toBe(0);
      expect(entriesPerSec).toBeGreaterThanOrEqual(1_000);
    } finally {
      for (const app of apps)
        if (app.child.exitCode === null && app.child.signalCode === null) app.child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      await queue.close();
    }
  });
});
