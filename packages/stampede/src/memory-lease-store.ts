import type { CacheEntry, Clock } from '@dc/core';
import {
  assertTtlMs,
  assertValidEntry,
  assertValidKey,
  ClosedError,
  describeValue,
  InvalidOptionError,
  systemClock,
} from '@dc/core';
import { SCOPE } from './internal/validate';
import type { LeaseRead, LeaseStore, LeaseToken } from './lease';

/** Options for {@link createMemoryLeaseStore}. */
export interface MemoryLeaseStoreOptions {
  /** Time source for entry expiry and lease lapse. @default systemClock */
  readonly clock?: Clock | undefined;
  /** Default lease lifetime (ms, > 0); a holder that died stops blocking the key after it. @default 10000 */
  readonly leaseTtlMs?: number | undefined;
}

/** Defaults of {@link MemoryLeaseStoreOptions}. */
export const DEFAULT_MEMORY_LEASE_STORE_OPTIONS: Readonly<{ leaseTtlMs: number }> = Object.freeze({
  leaseTtlMs: 10_000,
});

/** Throws `E_INVALID_OPTION` unless `token` looks like a {@link LeaseToken}. */
export function assertLeaseToken(token: unknown): asserts token is LeaseToken {
  const t = token as Partial<LeaseToken> | null;
  if (typeof t !== 'object' || t === null || typeof t.key !== 'string' || typeof t.id !== 'string') {
    throw new InvalidOptionError(
      `[dc:${SCOPE}] a lease token must be { key, id } from get(), got ${describeValue(token)}`,
    );
  }
}

interface Lease {
  readonly id: string;
  readonly expiresAt: number;
}

/**
 * An in-process {@link LeaseStore}: entries and leases in two maps, every operation atomic
 * (no `await` between check and write). Lapsed leases are dropped lazily; it schedules no timers.
 */
export function createMemoryLeaseStore<V = unknown>(options: MemoryLeaseStoreOptions = {}): LeaseStore<V> {
  const clock = options.clock ?? systemClock;
  const defaultLeaseTtlMs = options.leaseTtlMs ?? DEFAULT_MEMORY_LEASE_STORE_OPTIONS.leaseTtlMs;
  assertTtlMs(defaultLeaseTtlMs, 'leaseTtlMs', SCOPE);
  const entries = new Map<string, CacheEntry<V>>();
  const leases = new Map<string, Lease>();
  let nextId = 0;
  let closed = false;

  const assertOpen = () => {
    if (closed) throw new ClosedError(`[dc:${SCOPE}] lease store is closed`);
  };

  const liveLease = (key: string, now: number): Lease | undefined => {
    const lease = leases.get(key);
    if (lease !== undefined && now >= lease.expiresAt) {
      leases.delete(key);
      return undefined;
    }
    return lease;
  };

  return {
    async get(key, getOptions): Promise<LeaseRead<V>> {
      assertOpen();
      assertValidKey(key, SCOPE);
      const leaseTtlMs = getOptions?.leaseTtlMs ?? defaultLeaseTtlMs;
      assertTtlMs(leaseTtlMs, 'leaseTtlMs', SCOPE);
      const now = clock.now();
      let entry = entries.get(key);
      if (entry !== undefined && now >= entry.expiresAt) {
        entries.delete(key);
        entry = undefined;
      }
      if (entry !== undefined && now < entry.staleAt) return { status: 'hit', entry };
      if (liveLease(key, now) !== undefined) return { status: 'wait', stale: entry };
      const id = `${++nextId}`;
      leases.set(key, { id, expiresAt: now + leaseTtlMs });
      return { status: 'lease', token: { key, id }, stale: entry };
    },
    async fill(token, entry) {
      assertOpen();
      assertLeaseToken(token);
      assertValidEntry(entry, SCOPE);
      const lease = liveLease(token.key, clock.now());
      if (lease === undefined || lease.id !== token.id) return false;
      leases.delete(token.key);
      entries.set(token.key, entry);
      return true;
    },
    async release(token) {
      assertOpen();
      assertLeaseToken(token);
      const lease = liveLease(token.key, clock.now());
      if (lease === undefined || lease.id !== token.id) return false;
      leases.delete(token.key);
      return true;
    },
    async set(key, entry) {
      assertOpen();
      assertValidKey(key, SCOPE);
      assertValidEntry(entry, SCOPE);
      leases.delete(key);
      entries.set(key, entry);
    },
    async delete(key) {
      assertOpen();
      assertValidKey(key, SCOPE);
      leases.delete(key);
      const entry = entries.get(key);
      entries.delete(key);
      return entry !== undefined && clock.now() < entry.expiresAt;
    },
    async close() {
      closed = true;
      entries.clear();
      leases.clear();
    },
  };
}
