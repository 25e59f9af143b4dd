/**
 * Tier N FAULTS W2: write-through (fail-closed, so an acknowledged write means Redis took it) over
 * a Redis store whose server runs AOF with `appendfsync everysec`, SIGKILLed mid-run and
 * restarted from its AOF. No acknowledged L2 write may be lost: afterwards each key in Redis holds
 * its last acknowledged version or a newer one, and a key may be missing only when a later write
 * of it failed (the store then deletes it rather than keep the older value).
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { createWriteThrough } from '@dc/strategies';
import { type RedisNode, startRedis } from '@dc/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore, namespacedKey } from '../../src/index';
import {
  killAndRestart,
  printCounters,
  sleep,
  trackUnhandled,
  valueOn,
  waitForRepair,
} from '../chaos-helpers';

let redis: RedisNode;
beforeAll(async () => {
  redis = await startRedis({ args: ['--appendonly', 'yes', '--appendfsync', 'everysec'] });
});
afterAll(async () => {
  await redis?.stop();
});

const NAMESPACE = 'w2';
const versionOf = (value: string | undefined): number =>
  value === undefined ? 0 : Number(value.split('@')[1]);

describe('W2: write-through, Redis with AOF everysec SIGKILLed and restarted', () => {
  it('loses no acknowledged L2 write', async () => {
    const rows = new Map<string, string>();
    const store = createRedisStore<string>({
      connection: redis.url,
      namespace: NAMESPACE,
      failMode: 'closed',
    });
    const writeThrough = createWriteThrough<string>({
      store,
      ttlMs: 600_000,
      onCacheError: 'throw',
      dataSource: {
        load: async (key) => rows.get(key),
        save: async (key, value) => {
          rows.set(key, value);
        },
        delete: async (key) => {
          rows.delete(key);
        },
      },
    });
    const keys = Array.from({ length: 100 }, (_, i) => `k${i}`);
    // The first 20 keys are only written before the kill: their values must come back from the
    // AOF itself, not from writes made after the restart.
    const COLD = 20;
    let coldPhaseOver = false;
    // Per key: the last version acknowledged, and whether a write failed after it.
    const lastAcked = new Map<string, number>();
    const failedSince = new Set<string>();
    const unhandled = trackUnhandled();
    let version = 0;
    let acked = 0;
    let failed = 0;
    let stop = false;
    const writer = async (w: number) => {
      for (let i = w; !stop; i += 8) {
        await nextTurn();
        const key = coldPhaseOver
          ? (keys[COLD + (i % (keys.length - COLD))] as string)
          : (keys[i % keys.length] as string);
        const v = ++version;
        try {
          await writeThrough.set(key, `${key}@${v}`);
          acked++;
          if (v > (lastAcked.get(key) ?? 0)) {
            lastAcked.set(key, v);
            failedSince.delete(key);
          }
        } catch {
          failed++;
          failedSince.add(key);
        }
      }
    };
    const load = Array.from({ length: 8 }, (_, w) => writer(w));
    await sleep(800);
    const ackedBeforeKill = acked;
    coldPhaseOver = true;
    await killAndRestart(redis, 500, 1_000);
    stop = true;
    await Promise.all(load);
    await waitForRepair(store);

    let lostAcked = 0;
    let missingWithoutCause = 0;
    let coldRestored = 0;
    for (const [index, key] of keys.entries()) {
      const stored = (await valueOn(redis, namespacedKey(NAMESPACE, key))) as string | undefined;
      if (stored === undefined) {
        if (lastAcked.has(key) && !failedSince.has(key)) missingWithoutCause++;
      } else if (versionOf(stored) < (lastAcked.get(key) ?? 0)) {
        lostAcked++;
      } else if (index < COLD) {
        coldRestored++;
      }
    }
    printCounters({
      scenario: 'W2-write-through-redis-sigkill-aof-everysec',
      acked,
      lostAcked: lostAcked + missingWithoutCause,
      ackedBeforeKill,
      coldRestored,
      failedWrites: failed,
      errorsSurfaced: unhandled.count(),
    });
    unhandled.stop();
    expect(ackedBeforeKill).toBeGreaterThan(100);
    expect(failed).toBeGreaterThan(0);
    // At most the 8 writes in flight at the kill can have failed on a cold key (and removed it).
    expect(coldRestored).toBeGreaterThanOrEqual(COLD - 8);
    expect({ lostAcked, missingWithoutCause, unhandled: unhandled.count() }).toEqual({
      lostAcked: 0,
      missingWithoutCause: 0,
      unhandled: 0,
    });
    await writeThrough.close();
    await store.close();
  });
});
