import type { Clock, TimerHandle } from '@dc/core';
import {
  assertNonNegativeMs,
  assertTtlMs,
  assertValidKey,
  ClosedError,
  describeValue,
  InvalidOptionError,
  systemClock,
} from '@dc/core';
import type { AcquireOptions, DistributedLock, LockToken } from './distributed-lock';
import { SCOPE } from './internal/validate';

/** Options for {@link createMemoryLock}. */
export interface MemoryLockOptions {
  /** Time source for lock expiry and waits (waits are timers, never polling). @default systemClock */
  readonly clock?: Clock | undefined;
}

interface Waiter {
  readonly ttlMs: number;
  readonly resolve: (token: LockToken | null) => void;
  timer: TimerHandle | undefined;
}

interface Held {
  id: string;
  expiresAt: number;
  expiryTimer: TimerHandle;
  readonly waiters: Waiter[];
}

/** Throws `E_INVALID_OPTION` unless `token` looks like a {@link LockToken}. */
export function assertLockToken(token: unknown): asserts token is LockToken {
  const t = token as Partial<LockToken> | null;
  if (typeof t !== 'object' || t === null || typeof t.key !== 'string' || typeof t.id !== 'string') {
    throw new InvalidOptionError(
      `[dc:${SCOPE}] a lock token must be { key, id } from acquire(), got ${describeValue(token)}`,
    );
  }
}

/**
 * Validates acquire input (shared with other implementations of the contract).
 * @throws InvalidKeyError / InvalidOptionError.
 */
export function assertAcquireInput(key: unknown, options: unknown): asserts options is AcquireOptions {
  assertValidKey(key, SCOPE);
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError(
      `[dc:${SCOPE}] acquire options must be { ttlMs, waitMs? }, got ${describeValue(options)}`,
    );
  }
  const { ttlMs, waitMs } = options as AcquireOptions;
  assertTtlMs(ttlMs, 'ttlMs', SCOPE);
  if (waitMs !== undefined) assertNonNegativeMs(waitMs, 'waitMs', SCOPE);
}

/**
 * An in-process {@link DistributedLock}: exact, FIFO for waiters, timer-driven (no polling).
 * Useful on its own for one process and as the reference the Redis lock is tested against.
 */
export function createMemoryLock(options: MemoryLockOptions = {}): DistributedLock {
  const clock = options.clock ?? systemClock;
  const locks = new Map<string, Held>();
  let nextId = 0;
  let closed = false;

  const grant = (key: string, ttlMs: number, waiters: Waiter[]): LockToken => {
    const id = `${++nextId}`;
    const held: Held = {
      id,
      expiresAt: clock.now() + ttlMs,
      expiryTimer: clock.setTimer(() => handOver(key, held), ttlMs),
      waiters,
    };
    locks.set(key, held);
    return { key, id };
  };

  // The current holder is gone (released or expired): the oldest waiter gets the lock.
  const handOver = (key: string, held: Held): void => {
    held.expiryTimer.cancel();
    const next = held.waiters.shift();
    if (next === undefined) {
      locks.delete(key);
      return;
    }
    next.timer?.cancel();
    next.resolve(grant(key, next.ttlMs, held.waiters));
  };

  const live = (key: string): Held | undefined => {
    const held = locks.get(key);
    // Expiry timers normally fire on time; this covers a clock that jumped past them.
    if (held !== undefined && clock.now() >= held.expiresAt) {
      handOver(key, held);
      return locks.get(key);
    }
    return held;
  };

  const assertOpen = () => {
    if (closed) throw new ClosedError(`[dc:${SCOPE}] lock is closed`);
  };

  return {
    async acquire(key, acquireOptions) {
      assertOpen();
      assertAcquireInput(key, acquireOptions);
      const { ttlMs, waitMs = 0 } = acquireOptions;
      const held = live(key);
      if (held === undefined) return grant(key, ttlMs, []);
      if (waitMs === 0) return null;
      return new Promise<LockToken | null>((resolve) => {
        const waiter: Waiter = { ttlMs, resolve, timer: undefined };
        waiter.timer = clock.setTimer(() => {
          const current = locks.get(key);
          const index = current ? current.waiters.indexOf(waiter) : -1;
          if (current && index >= 0) current.waiters.splice(index, 1);
          resolve(null);
        }, waitMs);
        held.waiters.push(waiter);
      });
    },
    async release(token) {
      assertOpen();
      assertLockToken(token);
      const held = live(token.key);
      if (held === undefined || held.id !== token.id) return false;
      handOver(token.key, held);
      return true;
    },
    async extend(token, ttlMs) {
      assertOpen();
      assertLockToken(token);
      assertTtlMs(ttlMs, 'ttlMs', SCOPE);
      const held = live(token.key);
      if (held === undefined || held.id !== token.id) return false;
      held.expiryTimer.cancel();
      held.expiresAt = clock.now() + ttlMs;
      held.expiryTimer = clock.setTimer(() => handOver(token.key, held), ttlMs);
      return true;
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const held of locks.values()) {
        held.expiryTimer.cancel();
        for (const waiter of held.waiters) {
          waiter.timer?.cancel();
          waiter.resolve(null);
        }
      }
      locks.clear();
    },
  };
}
