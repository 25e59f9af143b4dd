/**
 * The distributed-lock contract. Implementations: `createMemoryLock` here (one process), and a
 * Redis lock in `@dc/redis-adapter` (`SET key id NX PX ttl`, release and extend by a Lua
 * compare-and-set on `id`). Every implementation must pass `runDistributedLockContract` from
 * this package's `test/lock-contract.ts`.
 */

/** Proof of holding a lock; pass it back to `release` / `extend`. Treat it as opaque. */
export interface LockToken {
  /** The locked key. */
  readonly key: string;
  /** Unique per successful `acquire` (never reused), compared on release and extend. */
  readonly id: string;
}

/** Options for {@link DistributedLock.acquire}. */
export interface AcquireOptions {
  /**
   * Lease time (ms, > 0): the lock frees itself this long after it was granted (or last extended)
   * even if its holder died. Longer than the work it protects, or `extend` it while working.
   */
  readonly ttlMs: number;
  /**
   * How long to wait for a held lock to be released or to expire (ms, >= 0); `0` tries once.
   * @default 0
   */
  readonly waitMs?: number | undefined;
}

/**
 * A mutual-exclusion lock per key with an expiry, shared by every process that uses the same
 * backend. At most one unexpired token exists per key at any time.
 */
export interface DistributedLock {
  /**
   * Takes the lock on `key`, waiting up to `waitMs`. Resolves the token, or `null` when the lock
   * was still held by someone else when `waitMs` ran out.
   * @throws InvalidKeyError for a bad key; InvalidOptionError for a non-positive/NaN `ttlMs` or
   * negative/NaN `waitMs` (before any I/O); ClosedError after `close()`.
   */
  acquire(key: string, options: AcquireOptions): Promise<LockToken | null>;
  /**
   * Releases the lock if `token` still holds it. Resolves `false` (and changes nothing) when the
   * lock expired or is now held by another token.
   */
  release(token: LockToken): Promise<boolean>;
  /**
   * Resets the expiry of a lock `token` still holds to `ttlMs` from now. Resolves `false` when the
   * lock was already lost (expired or taken over).
   * @throws InvalidOptionError for a non-positive/NaN `ttlMs`.
   */
  extend(token: LockToken, ttlMs: number): Promise<boolean>;
  /**
   * Stops pending `acquire` waits (they resolve `null`) and rejects later calls with `E_CLOSED`.
   * Locks held in a shared backend are left to expire. Idempotent.
   */
  close(): Promise<void>;
}
