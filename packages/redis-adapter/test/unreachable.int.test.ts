/**
 * FAULTS A4: Redis unreachable at startup (closed port) or black-holed for the store's whole
 * life (SIGSTOP). The constructor neither throws nor waits, the first op settles within the hard
 * timeout, `close()` resolves within 1 s, and no handle is left behind.
 */
import { createServer } from 'node:net';
import { isDcError } from '@dc/core';
import { type RedisNode, startRedis } from '@dc/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedisStore } from '../src/index';
import { printCounters, r1, sleep, trackUnhandled } from './chaos-helpers';

const HARD = 250;

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Handles other than the test runner's own, by type. */
function handleCounts(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1);
  return counts;
}

function extraHandles(before: Map<string, number>): number {
  let extra = 0;
  for (const [type, count] of handleCounts()) extra += Math.max(0, count - (before.get(type) ?? 0));
  return extra;
}

/** `typed` for the unavailable error the contract promises; anything else names itself, so a failure says what it was. */
function classifyFailure(error: unknown): string {
  if (isDcError(error, 'E_STORE_UNAVAILABLE')) return 'typed';
  return `other: ${(error as Error)?.message ?? String(error)}`;
}

let frozen: RedisNode | undefined;
afterAll(async () => {
  await frozen?.stop();
});

async function scenario(name: string, url: string, failMode: 'open' | 'closed') {
  const unhandled = trackUnhandled();
  const before = handleCounts();
  const created = performance.now();
  const store = createRedisStore<string>({
    connection: url,
    failMode,
    hardTimeoutMs: HARD,
    softTimeoutMs: 50,
  });
  const constructMs = performance.now() - created;
  const t0 = performance.now();
  const outcome = await store.get('k').then((v) => (v === undefined ? 'miss' : 'hit'), classifyFailure);
  const firstOpMs = performance.now() - t0;
  // One clock read: two can straddle a millisecond and make staleAt > expiresAt, an invalid entry.
  const expiresAt = Date.now() + 1_000;
  const writeOutcome = await store
    .set('k', { value: 'v', expiresAt, staleAt: expiresAt })
    .then(() => 'ok', classifyFailure);
  const c0 = performance.now();
  await store.close();
  const closeMs = performance.now() - c0;
  // Sockets and timers of a closed client go away on the next turns of the loop.
  let activeHandles = extraHandles(before);
  for (let i = 0; i < 20 && activeHandles > 0; i++) {
    await sleep(25);
    activeHandles = extraHandles(before);
  }
  unhandled.stop();
  const counters = {
    scenario: `A4-${name}-fail-${failMode}`,
    errorsSurfaced: outcome.startsWith('other') || writeOutcome.startsWith('other') ? 1 : 0,
    unhandled: unhandled.count(),
    maxLatMs: r1(firstOpMs),
    p99LatMs: r1(firstOpMs),
    activeHandles,
    constructMs: r1(constructMs),
    closeMs: r1(closeMs),
    firstOp: outcome,
    firstWrite: writeOutcome,
  };
  printCounters(counters);
  return counters;
}

describe('createRedisStore with an unreachable Redis', () => {
  for (const failMode of ['open', 'closed'] as const) {
    it(`settles ops, closes within 1 s and leaves no handle when the port is closed (fail-${failMode})`, async () => {
      const c = await scenario('closed-port', `redis://127.0.0.1:${await closedPort()}`, failMode);
      expect(c.constructMs).toBeLessThan(50);
      expect(c.maxLatMs).toBeLessThanOrEqual(HARD + 20);
      expect(c.firstOp).toBe(failMode === 'open' ? 'miss' : 'typed');
      expect(c.firstWrite).toBe(failMode === 'open' ? 'ok' : 'typed');
      expect(c.closeMs).toBeLessThanOrEqual(1_000);
      expect(c.activeHandles).toBe(0);
      expect(c.unhandled).toBe(0);
    });

    it(`settles ops, closes within 1 s and leaves no handle when Redis is frozen from the start (fail-${failMode})`, async () => {
      frozen ??= await startRedis();
      frozen.freeze();
      try {
        const c = await scenario('black-holed', frozen.url, failMode);
        expect(c.maxLatMs).toBeLessThanOrEqual(HARD + 20);
        expect(c.firstOp).toBe(failMode === 'open' ? 'miss' : 'typed');
        expect(c.closeMs).toBeLessThanOrEqual(1_000);
        expect(c.activeHandles).toBe(0);
        expect(c.unhandled).toBe(0);
      } finally {
        frozen.resume();
      }
    });
  }
});
