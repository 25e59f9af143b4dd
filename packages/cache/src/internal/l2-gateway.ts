import type { CacheEntry, CacheStore, Clock, SyncCacheStore, TimerHandle } from '@dc/core';
import { CacheUnavailableError, isDcError } from '@dc/core';
import type { FailMode } from '../options';

type Op = 'get' | 'set' | 'delete' | 'clear';

/** What the gateway tells the facade about L2 failures and recoveries. */
export interface L2GatewayHooks {
  onError(op: Op, key: string | undefined, error: unknown, timedOut: boolean): void;
  onRecovered(key: string): void;
}

export interface L2GatewayOptions<V> {
  store: CacheStore<V>;
  /** In-process store read synchronously with no timeout (the embedded L2). */
  sync: (CacheStore<V> & SyncCacheStore<V>) | undefined;
  timeoutMs: number;
  failMode: FailMode;
  autoRecoveryMs: number | undefined;
  maxPending: number;
  clock: Clock;
  hooks: L2GatewayHooks;
}

/** A failed L2 write waiting for a retry: the latest entry for the key, or a delete. */
interface Pending<V> {
  readonly entry: CacheEntry<V> | undefined;
}

const TIMED_OUT: unique symbol = Symbol('l2-timeout');

// Caller mistakes are never an outage: they reach the caller in every fail mode.
const CALLER_ERRORS = ['E_INVALID_KEY', 'E_INVALID_OPTION', 'E_SERIALIZATION'] as const;

function isCallerError(error: unknown): boolean {
  return CALLER_ERRORS.some((code) => isDcError(error, code));
}

/**
 * L2 with a deadline per call and the fail mode applied. Fail-open: a failed read is a miss, a
 * failed write is remembered (latest per key, bounded) and retried every `autoRecoveryMs`; reads of
 * a key with a remembered write answer from it (read-your-writes). Fail-closed: every failure
 * rejects with `CacheUnavailableError`.
 */
export class L2Gateway<V> {
  private readonly pending = new Map<string, Pending<V>>();
  private timer: TimerHandle | undefined;
  private recovering = false;
  private closed = false;
  errors = 0;
  timeouts = 0;
  recovered = 0;

  constructor(private readonly o: L2GatewayOptions<V>) {}

  get pendingCount(): number {
    return this.pending.size;
  }

  /** The entry, `undefined` on a miss (or a failure in fail-open mode). */
  get(key: string): CacheEntry<V> | undefined | Promise<CacheEntry<V> | undefined> {
    if (this.pending.size > 0) {
      const waiting = this.pending.get(key);
      if (waiting !== undefined) return waiting.entry;
    }
    if (this.o.sync !== undefined) {
      try {
        return this.o.sync.getSync(key);
      } catch (error) {
        return this.fail('get', key, error, false, undefined, undefined);
      }
    }
    return this.guard('get', key, () => this.o.store.get(key), undefined, undefined);
  }

  /**
   * Resolves `true` when L2 took the write; `false` when it failed open. A failed write is
   * queued for recovery when `replay` is set (a caller's `set`), not for a loaded value: that one
   * may be older than a write another instance makes meanwhile, and missing it costs one load.
   */
  set(key: string, entry: CacheEntry<V>, replay: boolean): Promise<boolean> {
    this.pending.delete(key);
    return this.guard(
      'set',
      key,
      () => this.o.store.set(key, entry).then(() => true),
      false,
      replay ? { entry } : undefined,
    );
  }

  delete(key: string): Promise<boolean> {
    this.pending.delete(key);
    return this.guard('delete', key, () => this.o.store.delete(key), false, { entry: undefined });
  }

  deleteMany(keys: readonly string[]): Promise<number> {
    for (const key of keys) this.pending.delete(key);
    return this.guard('delete', keys[0], () => this.o.store.deleteMany(keys), -1, undefined).then(
      (removed) => {
        if (removed >= 0) return removed;
        const record = { entry: undefined };
        for (const key of keys) this.remember(key, record);
        return 0;
      },
    );
  }

  clear(): Promise<void> {
    this.pending.clear();
    return this.guard('clear', undefined, () => this.o.store.clear(), undefined, undefined);
  }

  close(): void {
    this.closed = true;
    this.timer?.cancel();
    this.timer = undefined;
    this.pending.clear();
  }

  private guard<T>(
    op: Op,
    key: string | undefined,
    run: () => Promise<T>,
    fallback: T,
    record: Pending<V> | undefined,
  ): Promise<T> {
    let call: Promise<T>;
    try {
      call = run();
    } catch (error) {
      call = Promise.reject(error);
    }
    const onError = (error: unknown): T => {
      // A read that cannot be decoded is a miss; a write the caller got wrong is the caller's.
      if (op !== 'get' && isCallerError(error)) throw error;
      const timedOut = error === TIMED_OUT;
      return this.fail(op, key, timedOut ? undefined : error, timedOut, record, fallback);
    };
    if (this.o.sync !== undefined) return call.then(undefined, onError);
    return this.deadline(call).then(undefined, onError);
  }

  private fail<T>(
    op: Op,
    key: string | undefined,
    error: unknown,
    timedOut: boolean,
    record: Pending<V> | undefined,
    fallback?: T,
  ): T {
    this.errors++;
    if (timedOut) this.timeouts++;
    const reported =
      error ??
      new CacheUnavailableError(
        `[dc:cache] L2 ${op} took longer than \`l2Timeout\` (${this.o.timeoutMs} ms)`,
      );
    this.o.hooks.onError(op, key, reported, timedOut);
    if (this.o.failMode === 'closed') {
      throw new CacheUnavailableError(
        `[dc:cache] L2 ${op}${key === undefined ? '' : ` of ${JSON.stringify(key)}`} failed${timedOut ? ` (no answer within \`l2Timeout\`, ${this.o.timeoutMs} ms)` : ''}; \`failMode\` is 'closed'`,
        { cause: reported },
      );
    }
    if (record !== undefined && key !== undefined) this.remember(key, record);
    return fallback as T;
  }

  private remember(key: string, record: Pending<V>): void {
    if (this.o.autoRecoveryMs === undefined || this.closed) return;
    this.pending.delete(key);
    this.pending.set(key, record);
    if (this.pending.size > this.o.maxPending) {
      const oldest = this.pending.keys().next().value as string;
      this.pending.delete(oldest);
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.timer !== undefined || this.closed || this.o.autoRecoveryMs === undefined) return;
    this.timer = this.o.clock.setTimer(() => {
      this.timer = undefined;
      void this.recover();
    }, this.o.autoRecoveryMs);
  }

  /** Replays remembered writes in order until one fails (L2 still down) or none is left. */
  private async recover(): Promise<void> {
    if (this.recovering || this.closed) return;
    this.recovering = true;
    try {
      for (const [key, record] of [...this.pending]) {
        if (this.closed) return;
        if (this.pending.get(key) !== record) continue;
        const { entry } = record;
        try {
          const live = entry !== undefined && this.o.clock.now() < entry.expiresAt;
          await this.deadline<unknown>(live ? this.o.store.set(key, entry) : this.o.store.delete(key));
        } catch {
          break;
        }
        if (this.pending.get(key) === record) {
          this.pending.delete(key);
          this.recovered++;
          this.o.hooks.onRecovered(key);
        }
      }
    } finally {
      this.recovering = false;
      if (this.pending.size > 0) this.schedule();
    }
  }

  private deadline<T>(call: Promise<T>): Promise<T> {
    const { timeoutMs, clock } = this.o;
    return new Promise<T>((resolve, reject) => {
      let done = false;
      const timer = clock.setTimer(() => {
        if (done) return;
        done = true;
        reject(TIMED_OUT);
      }, timeoutMs);
      call.then(
        (value) => {
          if (done) return;
          done = true;
          timer.cancel();
          resolve(value);
        },
        (error: unknown) => {
          if (done) return;
          done = true;
          timer.cancel();
          reject(error);
        },
      );
    });
  }
}
