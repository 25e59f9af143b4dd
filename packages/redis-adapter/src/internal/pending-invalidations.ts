/**
 * The keys whose last write failed (an error, a timeout or an open breaker). Redis may still hold
 * an older value for them — or get one back: a restart reloads its AOF/RDB, a failover promotes
 * a replica that never saw the write — so reads of these keys are misses until a later write of
 * the key succeeds or the store's repair deletes them from Redis.
 *
 * Success only clears what failed before it was issued: every write takes a sequence number when
 * it starts, each failure records the latest number handed out, and a success issued at `seq`
 * clears a key only if its failure was recorded before `seq`. So a slow write that started before
 * a failure cannot clear it by finishing after it.
 *
 * Bounded: past `maxKeys`, the set collapses into "the whole namespace" (every read a miss) until a
 * repair clears the namespace.
 */
export interface PendingInvalidations {
  /** Keys remembered, or 1 while the whole namespace is. */
  readonly size: number;
  /** True while the whole namespace is pending (after an overflow or a failed `clear()`). */
  readonly wholeNamespace: boolean;
  /** A sequence number for a write that starts now. */
  issue(): number;
  /** True when reads of `key` must not trust Redis. */
  covers(key: string): boolean;
  /** Records a failed write of `keys`. */
  fail(keys: Iterable<string>): void;
  /** Records a failed write of the whole namespace (`clear()`). */
  failAll(): void;
  /** A write of `keys` issued at `seq` succeeded. */
  succeed(keys: Iterable<string>, seq: number): void;
  /** A clear of the whole namespace issued at `seq` succeeded. */
  succeedAll(seq: number): void;
  /** Up to `limit` keys to repair, oldest failures first. */
  take(limit: number): string[];
}

export function createPendingInvalidations(maxKeys: number): PendingInvalidations {
  // key -> sequence number when its (latest) failure was recorded. Insertion order = repair order.
  const failedAt = new Map<string, number>();
  let all = false;
  let allFailedAt = 0;
  let seq = 0;

  return {
    get size() {
      return all ? 1 : failedAt.size;
    },
    get wholeNamespace() {
      return all;
    },
    issue: () => ++seq,
    covers: (key) => all || failedAt.has(key),
    fail(keys) {
      if (all) {
        allFailedAt = seq;
        return;
      }
      for (const key of keys) {
        failedAt.delete(key);
        failedAt.set(key, seq);
      }
      if (failedAt.size > maxKeys) {
        failedAt.clear();
        all = true;
        allFailedAt = seq;
      }
    },
    failAll() {
      failedAt.clear();
      all = true;
      allFailedAt = seq;
    },
    succeed(keys, issuedAt) {
      if (failedAt.size === 0) return;
      for (const key of keys) {
        const at = failedAt.get(key);
        if (at !== undefined && at < issuedAt) failedAt.delete(key);
      }
    },
    succeedAll(issuedAt) {
      if (all && allFailedAt < issuedAt) all = false;
      for (const [key, at] of failedAt) if (at < issuedAt) failedAt.delete(key);
    },
    take(limit) {
      const keys: string[] = [];
      for (const key of failedAt.keys()) {
        if (keys.length === limit) break;
        keys.push(key);
      }
      return keys;
    },
  };
}
