/**
 * FAULTS A6 (tier N): 10 kill/restart cycles of a standalone Redis, 2 s each (SIGKILL, 1 s down,
 * restart, 1 s up), under a 20-worker getOrSet load through a fail-open `createRedisStore`. The
 * load runs in a child process started with `--expose-gc` (bundled like the other multi-process
 * fixtures), which measures itself after each cycle with the load paused and garbage collected:
 * heap within +5 MB of the cycle-0 baseline; active resources by type (sockets, timers, ...) and
 * the client's `error` listeners identical to the baseline. Regression for cacheable #1687 and
 * ioredis' timer-leak tests.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { rmSync } from 'node:fs';
import { type RedisNode, startRedis } from '@dc/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { printCounters, r1 } from '../chaos-helpers';
import { bundleChildScript } from '../fixtures/bundle-child';

const CYCLES = 10;
const DOWN_MS = 1_000;
const UP_MS = 1_000;
const HEAP_LIMIT_MB = 5;

interface Snapshot {
  type: 'snapshot';
  heapUsed: number;
  resources: Record<string, number>;
  errorListeners: number;
  readyListeners: number;
  breaker: string;
}
interface Final {
  type: 'final';
  counters: {
    ops: number;
    rejected: number;
    factoryCalls: number;
    maxLatMs: number;
    p99LatMs: number;
    unhandled: number;
  };
  stats: Record<string, unknown>;
  resourcesAfterClose: Record<string, number>;
}

let redis: RedisNode;
let bundle: { file: string; dir: string };
beforeAll(async () => {
  bundle = bundleChildScript('../faults/fixtures-sentinel/kill-cycles-child.ts');
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
  if (bundle) rmSync(bundle.dir, { recursive: true, force: true });
});

/** Resolves the child's next message of `type`, or rejects after `timeoutMs`. */
function nextMessage<T>(child: ChildProcess, type: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: { type: string }) => {
      if (message.type !== type) return;
      cleanup();
      resolve(message as T);
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`child exited (${code}) while waiting for '${type}'`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no '${type}' from the child within ${timeoutMs} ms`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe('A6: kill/restart cycles under load', () => {
  it('leaks no heap, handles, timers or error listeners over 10 cycles (fail-open)', async () => {
    const child = fork(bundle.file, [String(redis.port)], {
      execArgv: ['--expose-gc'],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      await nextMessage(child, 'ready', 15_000);
      // Cycle 0: warmed up under load, never faulted.
      await sleep(UP_MS);
      const measure = () => {
        const reply = nextMessage<Snapshot>(child, 'snapshot', 20_000);
        child.send({ type: 'measure' });
        return reply;
      };
      const baseline = await measure();
      const snapshots: Snapshot[] = [];
      for (let cycle = 1; cycle <= CYCLES; cycle++) {
        await redis.kill();
        await sleep(DOWN_MS);
        await redis.restart();
        await sleep(UP_MS);
        snapshots.push(await measure());
      }
      const finalReply = nextMessage<Final>(child, 'final', 20_000);
      child.send({ type: 'stop' });
      const final = await finalReply;
      const exitCode = await Promise.race([exited, sleep(5_000).then(() => 'still running')]);

      const heapDeltas = snapshots.map((s) => (s.heapUsed - baseline.heapUsed) / 2 ** 20);
      const last = snapshots[snapshots.length - 1] as Snapshot;
      const unhandledErrorLines = (stderr.match(/Unhandled error event/g) ?? []).length;
      printCounters({
        scenario: 'A6-kill-restart-cycles-fail-open',
        acked: final.counters.ops - final.counters.rejected,
        errorsSurfaced: final.counters.rejected + unhandledErrorLines,
        unhandled: final.counters.unhandled,
        maxLatMs: r1(final.counters.maxLatMs),
        p99LatMs: final.counters.p99LatMs,
        factoryCalls: final.counters.factoryCalls,
        heapDeltaMB: r1(heapDeltas[heapDeltas.length - 1] as number),
        activeHandles: Object.values(last.resources).reduce((a, b) => a + b, 0),
        heapDeltaMaxMB: r1(Math.max(...heapDeltas)),
        heapDeltasMB: heapDeltas.map(r1).join(' '),
        baselineHeapMB: r1(baseline.heapUsed / 2 ** 20),
        baselineResources: JSON.stringify(baseline.resources),
        lastResources: JSON.stringify(last.resources),
        errorListeners: `${baseline.errorListeners}->${last.errorListeners}`,
        timers: `${baseline.resources.Timeout ?? 0}->${last.resources.Timeout ?? 0}`,
        resourcesAfterClose: JSON.stringify(final.resourcesAfterClose),
        childExit: String(exitCode),
      });

      for (const [i, snapshot] of snapshots.entries()) {
        expect(snapshot.resources, `active resources after cycle ${i + 1}`).toEqual(baseline.resources);
        expect(snapshot.errorListeners, `error listeners after cycle ${i + 1}`).toBe(baseline.errorListeners);
        expect(snapshot.readyListeners, `ready listeners after cycle ${i + 1}`).toBe(baseline.readyListeners);
      }
      expect(Math.max(...heapDeltas)).toBeLessThanOrEqual(HEAP_LIMIT_MB);
      expect(final.counters.rejected).toBe(0);
      expect(final.counters.unhandled).toBe(0);
      expect(unhandledErrorLines).toBe(0);
      // The load really went through the outages (misses and skipped writes, no errors).
      expect(Number(final.stats.errors) + Number(final.stats.shortCircuits)).toBeGreaterThan(0);
      // Closed, the child has nothing left but its IPC channel and exits by itself.
      expect(final.resourcesAfterClose.TCPSocketWrap ?? 0).toBe(0);
      expect(final.resourcesAfterClose.Timeout ?? 0).toBe(0);
      expect(exitCode).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
