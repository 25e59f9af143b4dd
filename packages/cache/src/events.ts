/** Where a value came from. */
export type CacheTier = 'l1' | 'l2';

/** Payloads of the events a cache emits, by name. */
export interface CacheEventMap {
  /** A read found a servable value (`stale`: past its TTL, within grace). */
  'cache:hit': { readonly key: string; readonly tier: CacheTier; readonly stale: boolean };
  /** A read found nothing servable in any tier. */
  'cache:miss': { readonly key: string };
  /** A loader finished (`background`: a refresh no caller waited for). */
  'cache:load': { readonly key: string; readonly durationMs: number; readonly background: boolean };
  /**
   * A loader, refresh, lock or value failed. `phase`: `'load'` (a caller got the error),
   * `'refresh'` (background, stale value kept), `'lock'` (lock backend failed: loaded anyway),
   * `'value'` (a loaded value could not be stored: returned, not cached), `'l1'` (L1 refused a write).
   */
  'cache:error': {
    readonly key: string;
    readonly phase: 'load' | 'refresh' | 'lock' | 'value' | 'l1';
    readonly error: unknown;
  };
  /** An L2 call failed or timed out (`op`: `'get' | 'set' | 'delete' | 'clear'`); in fail-open mode the caller was not told. */
  'store:error': {
    readonly key: string | undefined;
    readonly op: 'get' | 'set' | 'delete' | 'clear';
    readonly timedOut: boolean;
    readonly error: unknown;
  };
  /** A write that failed on L2 reached it on a later retry (`autoRecovery`). */
  'store:recovered': { readonly key: string };
}

/** A cache event name. */
export type CacheEventName = keyof CacheEventMap;

/** A listener of one event; a listener that throws is ignored. */
export type CacheEventListener<E extends CacheEventName> = (payload: CacheEventMap[E]) => void;

/** Counters since creation, from `cache.stats()`. */
export interface CacheStats {
  /** Reads answered from a tier (`l1Hits + l2Hits`). */
  readonly hits: number;
  readonly l1Hits: number;
  readonly l2Hits: number;
  /** Hits past their TTL, within grace. */
  readonly staleHits: number;
  /** Reads that found nothing servable. */
  readonly misses: number;
  /** Loader calls that finished (successful or not). */
  readonly loads: number;
  /** Reads that joined a load already in flight instead of starting one. */
  readonly coalesced: number;
  /** Background refreshes started by XFetch before the TTL ran out. */
  readonly earlyRefreshes: number;
  /** Background refreshes of stale values. */
  readonly staleRefreshes: number;
  /** Loader failures (including hard timeouts). */
  readonly loadErrors: number;
  /** L2 calls that failed or timed out. */
  readonly l2Errors: number;
  /** L2 calls that timed out (`l2Timeout`). */
  readonly l2Timeouts: number;
  /** `set` calls that completed. */
  readonly sets: number;
  /** Keys removed by `delete`/`deleteMany`. */
  readonly deletes: number;
  /** L2 writes waiting for recovery now. */
  readonly pendingL2Writes: number;
  /** L2 writes that reached L2 on a retry. */
  readonly recoveredL2Writes: number;
  /** Loads running now (including one a write detached from its key, until it ends). */
  readonly inFlight: number;
  /** Entries in L1 now (0 without an L1). */
  readonly l1Size: number;
  /** Entries the L1 dropped to stay within its budget. */
  readonly l1Evictions: number;
  /** Entries the L1 dropped at their TTL or its cap. */
  readonly l1Expirations: number;
  /** L1 entries evicted because another instance changed them (bus). */
  readonly l1Invalidations: number;
}
