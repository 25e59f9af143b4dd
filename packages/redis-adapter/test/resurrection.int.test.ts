/**
 * FAULTS W1 and the hazard behind it: Redis persists every write (AOF, `appendfsync always`), is
 * SIGKILLed, and comes back with what it had before. A write or delete that failed meanwhile
 * left the older value there; the store must never serve it again, and must remove it once Redis
 * answers, so another instance reading Redis does not see it either.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { type CacheEntry, createEntry, type DataSource } from '@dc/core';
import { createWriteThrough } from '@dc/strategies';
import { type RedisNode, startRedis, waitFor } from '@dc/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore, namespacedKey, type RedisStore } from '../src/index';
import {
  killAndRestart,
  printCounters,
  sleep,
  trackUnhandled,
  valueOn,
  waitForRepair,
} from './chaos-helpers';

const SOFT = 50;
const HARD = 250;

const entry = (value: string): CacheEntry<string> => createEntry(value, { now: Date.now(), ttlMs: 600_000 });

let redis: RedisNode;
beforeAll(async () => {
  redis = await startRedis({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
});
afterAll(async () => {
  await redis?.stop();
});

const storeOn = (namespace: string, failMode: 'open' | 'closed' = 'open'): RedisStore<string> =>
  createRedisStore<string>({
    connection: redis.url,
    namespace,
    failMode,
    softTimeoutMs: SOFT,
    hardTimeoutMs: HARD,
  });

/** The value Redis itself holds for a store key (`undefined` when absent). */
const storedValue = (namespace: string, key: string) =>
  valueOn(redis, namespacedKey(namespace, key)) as Promise<string | undefined>;

describe('writes that failed while Redis was down', () => {
  it('read as misses, and the older values Redis brought back are deleted once it answers', async () => {
    const ns = 'failed-writes';
    const store = storeOn(ns);
    await store.setMany([
      ['updated', entry('old')],
      ['deleted', entry('old')],
      ['untouched', entry('kept')],
    ]);
    await redis.kill();
    // Fail-open: both resolve, although Redis took neither.
    await store.set('updated', entry('new'));
    await expect(store.delete('deleted')).resolves.toBe(false);
    expect(store.stats().pendingInvalidations).toBe(2);

    await redis.restart();
    // The AOF brought back what Redis had (the store reconnects after its backoff).
    expect(await storedValue(ns, 'untouched')).toBe('kept');
    await waitFor(async () => (await store.get('untouched'))?.value === 'kept', {
      timeoutMs: 3_000,
      what: 'the store to read Redis again',
    });
    // The failed writes' keys are never served from what Redis brought back.
    expect(await store.get('updated')).toBeUndefined();
    expect((await store.getMany(['deleted', 'untouched'])).map((e) => e?.value)).toEqual([undefined, 'kept']);

    await waitForRepair(store);
    expect(await storedValue(ns, 'updated')).toBeUndefined();
    expect(await storedValue(ns, 'deleted')).toBeUndefined();
    expect(await storedValue(ns, 'untouched')).toBe('kept');
    // Another instance sees no older value either.
    const other = storeOn(ns);
    expect(await other.get('updated')).toBeUndefined();
    // A write that succeeds is served again.
    await store.set('updated', entry('newer'));
    expect((await other.get('updated'))?.value).toBe('newer');
    await Promise.all([store.close(), other.close()]);
  });

  it('stays pending while Redis is away and counts a later successful write as the repair', async () => {
    const ns = 'repaired-by-write';
    const store = storeOn(ns, 'closed');
    await store.set('k', entry('v1'));
    await redis.kill();
    // Fail-closed: the caller is told, and the key is still remembered (the write is ambiguous).
    await expect(store.set('k', entry('v2'))).rejects.toMatchObject({ code: 'E_STORE_UNAVAILABLE' });
    expect(store.stats().pendingInvalidations).toBe(1);
    await sleep(300);
    expect(store.stats().pendingInvalidations).toBe(1);
    await redis.restart();
    await waitFor(
      async () => {
        try {
          await store.set('k', entry('v3'));
          return true;
        } catch {
          return false;
        }
      },
      { timeoutMs: 3_000, what: 'a write to succeed again' },
    );
    await waitForRepair(store);
    // Whether the repair's delete ran before or after v3, Redis holds v3 or nothing: never v1.
    expect(['v3', undefined]).toContain(await storedValue(ns, 'k'));
    await store.close();
  });
});

/** An in-process system of record that keeps a version per key. */
function versionedSource(): DataSource<string> & { version(key: string): number } {
  const rows = new Map<string, string>();
  return {
    async load(key) {
      return rows.get(key);
    },
    async save(key, value) {
      rows.set(key, value);
    },
    async delete(key) {
      rows.delete(key);
    },
    version: (key) => versionOf(rows.get(key)),
  };
}

const versionOf = (value: string | undefined): number =>
  value === undefined ? 0 : Number(value.split('@')[1]);

describe('W1: write-through over the Redis store, Redis SIGKILLed and restarted mid-run', () => {
  for (const failMode of ['open', 'closed'] as const) {
    it(`returns every acknowledged write or a newer one, never an older one (failMode: ${failMode})`, async () => {
      const ns = `w1-${failMode}`;
      const source = versionedSource();
      const store = storeOn(ns, failMode);
      const writeThrough = createWriteThrough<string>({
        store,
        dataSource: source,
        ttlMs: 600_000,
        onCacheError: failMode === 'open' ? 'ignore' : 'throw',
      });
      const keys = Array.from({ length: 40 }, (_, i) => `k${i}`);
      for (const key of keys) await writeThrough.set(key, `${key}@0`);
      const acked = new Map<string, number>(keys.map((k) => [k, 0]));
      const unhandled = trackUnhandled();
      let version = 0;
      let stop = false;
      const count = { ackedWrites: 0, rejectedWrites: 0, staleReads: 0, reads: 0, errorsSurfaced: 0 };
      // Each iteration yields to the event loop: with the breaker open, a write and a read settle
      // in microtasks alone, and the loops would never let the fault timers run.
      const writer = async (w: number) => {
        for (let i = w; !stop; i += 7) {
          await nextTurn();
          const key = keys[i % keys.length] as string;
          const v = ++version;
          try {
            await writeThrough.set(key, `${key}@${v}`);
            count.ackedWrites++;
            if (v > (acked.get(key) as number)) acked.set(key, v);
          } catch (error) {
            // Fail-closed only: the source took it, the cache did not (not acknowledged).
            if (failMode === 'closed' && (error as { code?: string }).code === 'E_STORE_UNAVAILABLE')
              count.rejectedWrites++;
            else count.errorsSurfaced++;
          }
        }
      };
      const reader = async (r: number) => {
        for (let i = r; !stop; i += 3) {
          await nextTurn();
          const key = keys[i % keys.length] as string;
          const floor = acked.get(key) as number;
          try {
            const value = await writeThrough.get(key);
            count.reads++;
            if (versionOf(value) < floor) count.staleReads++;
          } catch {
            count.errorsSurfaced++;
          }
        }
      };
      const load = [...[0, 1, 2, 3, 4, 5].map(writer), ...[0, 1, 2, 3].map(reader)];
      await sleep(300);
      await killAndRestart(redis, 700, 1_200);
      stop = true;
      await Promise.all(load);
      await waitForRepair(store);

      // After recovery, every instance reads the source's latest version: this one, a fresh one,
      // and Redis itself (an entry there is the latest, or absent).
      const fresh = storeOn(ns, failMode);
      let resurrected = 0;
      let lostAcked = 0;
      for (const key of keys) {
        const latest = source.version(key);
        if (latest < (acked.get(key) as number)) lostAcked++;
        if (versionOf(await writeThrough.get(key)) !== latest) resurrected++;
        const seen = (await fresh.get(key))?.value;
        if (seen !== undefined && versionOf(seen) !== latest) resurrected++;
        const raw = await storedValue(ns, key);
        if (raw !== undefined && versionOf(raw) !== latest) resurrected++;
      }
      printCounters({
        scenario: `W1-write-through-sigkill-${failMode}`,
        acked: count.ackedWrites,
        errorsSurfaced: count.errorsSurfaced + unhandled.count(),
        lostAcked,
        staleReads: count.staleReads + resurrected,
      });
      unhandled.stop();
      expect({
        resurrected,
        staleReads: count.staleReads,
        lostAcked,
        errorsSurfaced: count.errorsSurfaced,
        unhandled: unhandled.count(),
      }).toEqual({
        resurrected: 0,
        staleReads: 0,
        lostAcked: 0,
        errorsSurfaced: 0,
        unhandled: 0,
      });
      expect(count.ackedWrites).toBeGreaterThan(100);
      expect(count.reads).toBeGreaterThan(100);
      if (failMode === 'closed') expect(count.rejectedWrites).toBeGreaterThan(0);
      await writeThrough.close();
      await Promise.all([store.close(), fresh.close()]);
    });
  }
});
