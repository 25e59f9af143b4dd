/**
 * A distributed lock per key on one Redis primary (standalone, Sentinel-managed, or the slot's
 * primary in a cluster):
 *
 * - acquire: `SET <key> <random id> NX PX <ttlMs>`, retried every `retryIntervalMs` while `waitMs` lasts;
 * - release: Lua compare-and-delete (`GET == id` → `DEL`);
 * - extend: Lua compare-and-`PEXPIRE`.
 *
 * A holder that dies frees the key after `ttlMs`. The lock is as safe as the primary it lives on:
 * a failover that loses the last writes can lose a lock (the Redlock debate); keep `ttlMs` short
 * and treat the lock as a stampede optimisation, not as a correctness fence.
 *
 * Implements `DistributedLock` from `@dc/stampede` structurally (no runtime dependency on it).
 */
import { randomUUID } from 'node:crypto';
import { assertNonNegativeMs, assertTtlMs, assertValidKey, ClosedError, InvalidOptionError } from '@dc/core';
import type { Cluster, Redis } from 'ioredis';
import { bounded } from './internal/bounded';
import { watchClient } from './internal/clients';
import { assertNamespace, namespacedKey } from './namespace';

/** Proof of holding a lock (same shape as `@dc/stampede`'s `LockToken`). */
export interface RedisLockToken {
  readonly key: string;
  readonly id: string;
}

/** Options of {@link RedisLock.acquire} (same shape as `@dc/stampede`'s `AcquireOptions`). */
export interface RedisLockAcquireOptions {
  /** Lease time (ms, > 0) after which the lock frees itself. */
  readonly ttlMs: number;
  /** How long to keep trying while the key is held (ms, >= 0). @default 0 */
  readonly waitMs?: number | undefined;
}

/** A Redis-backed mutual-exclusion lock; structurally a `@dc/stampede` `DistributedLock`. */
export interface RedisLock {
  /** Resolves a token, or `null` when the key stayed held for `waitMs`. */
  acquire(key: string, options: RedisLockAcquireOptions): Promise<RedisLockToken | null>;
  /** Frees the key if `token` still holds it; resolves whether it did. */
  release(token: RedisLockToken): Promise<boolean>;
  /** Resets the expiry to `ttlMs` from now if `token` still holds the key. */
  extend(token: RedisLockToken, ttlMs: number): Promise<boolean>;
  /** Ends pending waits (they resolve `null`); later calls reject with `E_CLOSED`. */
  close(): Promise<void>;
}

/** Options for {@link createRedisLock}. */
export interface RedisLockOptions {
  /** Client you own (standalone, Sentinel or cluster); never closed by the lock. */
  client: Redis | Cluster;
  /** Namespace of lock keys (no `{`/`}`). @default 'dc-lock' */
  namespace?: string;
  /** Pause between acquire attempts while waiting (ms). @default 20 */
  retryIntervalMs?: number;
  /** Bound on each Redis round trip (ms); past it the call rejects with `E_STORE_UNAVAILABLE`. @default 1000 */
  timeoutMs?: number;
}

/** Defaults for {@link RedisLockOptions}. */
export const DEFAULT_REDIS_LOCK_OPTIONS = Object.freeze({
  namespace: 'dc-lock',
  retryIntervalMs: 20,
  timeoutMs: 1_000,
});

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;
const EXTEND = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;

/** Validates a token passed back to `release`/`extend`/`fill`. */
export function assertToken(token: unknown, what = 'lock'): asserts token is RedisLockToken {
  const t = token as Partial<RedisLockToken> | null;
  if (
    typeof t !== 'object' ||
    t === null ||
    typeof t.key !== 'string' ||
    typeof t.id !== 'string' ||
    t.id === ''
  ) {
    throw new InvalidOptionError(
      `[dc:redis] a ${what} token must be { key, id } as handed out, got ${typeof token}`,
    );
  }
}

/**
 * Creates a {@link RedisLock}.
 * @throws InvalidOptionError for bad options.
 */
export function createRedisLock(options: RedisLockOptions): RedisLock {
  const { client } = options;
  if (typeof client !== 'object' || client === null || typeof (client as Redis).set !== 'function') {
    throw new InvalidOptionError('[dc:redis] `client` must be an ioredis Redis or Cluster');
  }
  const namespace = options.namespace ?? DEFAULT_REDIS_LOCK_OPTIONS.namespace;
  const retryIntervalMs = options.retryIntervalMs ?? DEFAULT_REDIS_LOCK_OPTIONS.retryIntervalMs;
  const timeoutMs = options.timeoutMs ?? DEFAULT_REDIS_LOCK_OPTIONS.timeoutMs;
  assertNamespace(namespace);
  assertTtlMs(retryIntervalMs, 'retryIntervalMs', 'redis');
  assertTtlMs(timeoutMs, 'timeoutMs', 'redis');
  const detach = watchClient(client, { onReady() {}, onError() {} });
  let closed = false;
  const waiters = new Set<() => void>();

  const ensureOpen = () => {
    if (closed) throw new ClosedError('[dc:redis] lock is closed');
  };
  const tryOnce = async (redisKey: string, id: string, ttlMs: number) =>
    (await bounded(client.set(redisKey, id, 'PX', Math.ceil(ttlMs), 'NX'), timeoutMs, 'lock acquire')) ===
    'OK';
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      waiters.add(done);
    });

  return {
    async acquire(key, acquireOptions) {
      ensureOpen();
      assertValidKey(key, 'redis');
      if (typeof acquireOptions !== 'object' || acquireOptions === null) {
        throw new InvalidOptionError('[dc:redis] acquire options must be { ttlMs, waitMs? }');
      }
      const { ttlMs, waitMs = 0 } = acquireOptions;
      assertTtlMs(ttlMs, 'ttlMs', 'redis');
      assertNonNegativeMs(waitMs, 'waitMs', 'redis');
      const redisKey = namespacedKey(namespace, key);
      const id = randomUUID();
      const deadline = Date.now() + waitMs;
      // Bounded: one attempt per retryIntervalMs until the deadline.
      for (let attempt = 0; attempt <= waitMs / retryIntervalMs + 1; attempt++) {
        if (await tryOnce(redisKey, id, ttlMs)) return { key, id };
        const remaining = deadline - Date.now();
        if (remaining <= 0 || closed) return null;
        await pause(Math.min(retryIntervalMs, remaining));
        if (closed) return null;
      }
      return null;
    },
    async release(token) {
      ensureOpen();
      assertToken(token);
      const removed = await bounded(
        client.eval(RELEASE, 1, namespacedKey(namespace, token.key), token.id) as Promise<number>,
        timeoutMs,
        'lock release',
      );
      return removed === 1;
    },
    async extend(token, ttlMs) {
      ensureOpen();
      assertToken(token);
      assertTtlMs(ttlMs, 'ttlMs', 'redis');
      const extended = await bounded(
        client.eval(
          EXTEND,
          1,
          namespacedKey(namespace, token.key),
          token.id,
          Math.ceil(ttlMs),
        ) as Promise<number>,
        timeoutMs,
        'lock extend',
      );
      return extended === 1;
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const wake of [...waiters]) wake();
      detach();
    },
  };
}
