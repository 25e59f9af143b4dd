/**
 * The DistributedLock contract suite. Every implementation runs it:
 *
 * ```ts
 * import { runDistributedLockContract } from '../../stampede/test/lock-contract';
 * runDistributedLockContract('redis lock', async () => ({
 *   lock: createRedisLock({ client }),
 *   advance: (ms) => new Promise((r) => setTimeout(r, ms)), // real time for a real server
 * }));
 * ```
 *
 * `advance(ms)` lets `ms` of lock time pass: move a manual clock (in-memory) or sleep (Redis).
 * Durations are multiples of `unitMs`; raise it when a real backend needs slack.
 */
import { isDcError } from '@dc/core';
import { afterEach, describe, expect, it } from 'vitest';
import type { DistributedLock, LockToken } from '../src/index';

/** What a contract run needs from the implementation under test. */
export interface LockContractHarness {
  readonly lock: DistributedLock;
  /** Lets `ms` milliseconds of lock time pass (manual clock advance, or a real sleep). */
  advance(ms: number): Promise<void>;
  /** Cleans up after one test (close clients, stop servers). */
  teardown?(): Promise<void>;
}

/** Options for {@link runDistributedLockContract}. */
export interface LockContractOptions {
  /** Base duration (ms) every TTL and wait in the suite is a multiple of. @default 100 */
  readonly unitMs?: number;
}

async function rejection(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  return undefined;
}

/** Registers the contract tests for a {@link DistributedLock} under `describe(name)`. */
export function runDistributedLockContract(
  name: string,
  setup: () => LockContractHarness | Promise<LockContractHarness>,
  options: LockContractOptions = {},
): void {
  const u = options.unitMs ?? 100;
  let counter = 0;
  let current: LockContractHarness | undefined;
  // Keys are unique per test so that a shared backend needs no flush between tests.
  const key = (suffix = '') => `dc-lock-contract:${process.pid}:${Date.now()}:${++counter}${suffix}`;
  const harness = async () => {
    current = await setup();
    return current;
  };

  describe(`${name} (DistributedLock contract)`, () => {
    afterEach(async () => {
      await current?.teardown?.();
      current = undefined;
    });

    it('grants a free key and refuses a held one when waitMs is 0', async () => {
      const { lock } = await harness();
      const k = key();
      const token = await lock.acquire(k, { ttlMs: 10 * u });
      expect(token?.key).toBe(k);
      expect(typeof token?.id).toBe('string');
      await expect(lock.acquire(k, { ttlMs: 10 * u })).resolves.toBeNull();
      await expect(lock.acquire(k, { ttlMs: 10 * u, waitMs: 0 })).resolves.toBeNull();
    });

    it('frees the key on release by the holder, once', async () => {
      const { lock } = await harness();
      const k = key();
      const first = (await lock.acquire(k, { ttlMs: 10 * u })) as LockToken;
      await expect(lock.release(first)).resolves.toBe(true);
      await expect(lock.release(first)).resolves.toBe(false);
      const second = await lock.acquire(k, { ttlMs: 10 * u });
      expect(second).not.toBeNull();
      expect(second?.id).not.toBe(first.id);
    });

    it('ignores a release with a token that does not hold the lock', async () => {
      const { lock } = await harness();
      const k = key();
      const held = (await lock.acquire(k, { ttlMs: 10 * u })) as LockToken;
      await expect(lock.release({ key: k, id: `${held.id}-forged` })).resolves.toBe(false);
      await expect(lock.acquire(k, { ttlMs: 10 * u })).resolves.toBeNull();
    });

    it('frees the key once ttlMs has passed', async () => {
      const h = await harness();
      const k = key();
      await h.lock.acquire(k, { ttlMs: u });
      await h.advance(2 * u);
      await expect(h.lock.acquire(k, { ttlMs: u })).resolves.not.toBeNull();
    });

    it('does not let an expired token release or extend the next holder', async () => {
      const h = await harness();
      const k = key();
      const stale = (await h.lock.acquire(k, { ttlMs: u })) as LockToken;
      await h.advance(2 * u);
      const fresh = await h.lock.acquire(k, { ttlMs: 10 * u });
      expect(fresh).not.toBeNull();
      await expect(h.lock.release(stale)).resolves.toBe(false);
      await expect(h.lock.extend(stale, 10 * u)).resolves.toBe(false);
      await expect(h.lock.acquire(k, { ttlMs: u })).resolves.toBeNull();
    });

    it('keeps the lock past its first ttlMs when extended', async () => {
      const h = await harness();
      const k = key();
      const token = (await h.lock.acquire(k, { ttlMs: 3 * u })) as LockToken;
      await h.advance(u);
      await expect(h.lock.extend(token, 6 * u)).resolves.toBe(true);
      await h.advance(3 * u);
      await expect(h.lock.acquire(k, { ttlMs: u })).resolves.toBeNull();
      await expect(h.lock.release(token)).resolves.toBe(true);
    });

    it('refuses to extend a lock that already expired', async () => {
      const h = await harness();
      const k = key();
      const token = (await h.lock.acquire(k, { ttlMs: u })) as LockToken;
      await h.advance(2 * u);
      await expect(h.lock.extend(token, 10 * u)).resolves.toBe(false);
    });

    it('hands the lock to a waiting acquire when the holder releases it', async () => {
      const h = await harness();
      const k = key();
      const held = (await h.lock.acquire(k, { ttlMs: 50 * u })) as LockToken;
      const waiting = h.lock.acquire(k, { ttlMs: 10 * u, waitMs: 20 * u });
      await h.advance(u);
      await h.lock.release(held);
      await h.advance(2 * u);
      const token = await waiting;
      expect(token).not.toBeNull();
      expect(token?.id).not.toBe(held.id);
    });

    it('hands the lock to a waiting acquire when the holder expires', async () => {
      const h = await harness();
      const k = key();
      await h.lock.acquire(k, { ttlMs: 2 * u });
      const waiting = h.lock.acquire(k, { ttlMs: 10 * u, waitMs: 20 * u });
      await h.advance(4 * u);
      await expect(waiting).resolves.not.toBeNull();
    });

    it('resolves a waiting acquire with null once waitMs runs out', async () => {
      const h = await harness();
      const k = key();
      await h.lock.acquire(k, { ttlMs: 50 * u });
      const waiting = h.lock.acquire(k, { ttlMs: 10 * u, waitMs: 2 * u });
      await h.advance(4 * u);
      await expect(waiting).resolves.toBeNull();
    });

    it('locks keys independently and never reuses a token id', async () => {
      const { lock } = await harness();
      const a = key('a');
      const b = key('b');
      const ta = (await lock.acquire(a, { ttlMs: 10 * u })) as LockToken;
      const tb = await lock.acquire(b, { ttlMs: 10 * u });
      expect(tb).not.toBeNull();
      await lock.release(ta);
      const ta2 = (await lock.acquire(a, { ttlMs: 10 * u })) as LockToken;
      expect(ta2.id).not.toBe(ta.id);
    });

    it('rejects bad input with typed errors before any I/O', async () => {
      const { lock } = await harness();
      const k = key();
      expect(isDcError(await rejection(() => lock.acquire('', { ttlMs: u })), 'E_INVALID_KEY')).toBe(true);
      for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
        expect(isDcError(await rejection(() => lock.acquire(k, { ttlMs: bad })), 'E_INVALID_OPTION')).toBe(
          true,
        );
      }
      for (const bad of [-1, Number.NaN]) {
        expect(
          isDcError(await rejection(() => lock.acquire(k, { ttlMs: u, waitMs: bad })), 'E_INVALID_OPTION'),
        ).toBe(true);
      }
      const token = (await lock.acquire(k, { ttlMs: 10 * u })) as LockToken;
      expect(token).not.toBeNull();
      expect(isDcError(await rejection(() => lock.extend(token, 0)), 'E_INVALID_OPTION')).toBe(true);
      expect(isDcError(await rejection(() => lock.release({} as LockToken)), 'E_INVALID_OPTION')).toBe(true);
      await expect(lock.release(token)).resolves.toBe(true);
    });
  });
}
