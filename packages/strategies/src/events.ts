import type { QueuedWrite } from './write-queue';

/** The cache operation that failed in a {@link StrategyEvent} of type `cache:error`. */
export type CacheOperation = 'get' | 'set' | 'delete';

/**
 * Everything a strategy reports while it works. Events are fire-and-forget: a listener that
 * throws is ignored.
 */
export type StrategyEvent =
  /** A cache-tier call failed; `invalidated` says whether the key was removed afterwards. */
  | {
      readonly type: 'cache:error';
      readonly operation: CacheOperation;
      readonly key: string;
      readonly error: unknown;
    }
  /** A background refresh (refresh-ahead or grace) failed; the old entry stays. */
  | { readonly type: 'refresh:error'; readonly key: string; readonly error: unknown }
  /** A background refresh stored a new value. */
  | { readonly type: 'refresh:done'; readonly key: string }
  /** The flusher wrote a batch to the data source. */
  | {
      readonly type: 'write-behind:flushed';
      /** Queue entries acknowledged (coalesced ones included). */
      readonly entries: number;
      /** Keys written to or deleted from the data source. */
      readonly sourceWrites: number;
    }
  /** A flush failed and will be retried after `delayMs`. */
  | {
      readonly type: 'write-behind:retry';
      readonly attempt: number;
      readonly delayMs: number;
      readonly error: unknown;
    }
  /** The flusher gave up on entries after `maxAttempts`; they were invalidated in the cache. */
  | {
      readonly type: 'write-behind:failed';
      readonly entries: readonly QueuedWrite<unknown>[];
      readonly error: unknown;
    }
  /** The queue was full; `action` says whether the write was rejected or written through. */
  | {
      readonly type: 'write-behind:backpressure';
      readonly key: string;
      readonly action: 'reject' | 'write-through';
    };

/** Receives {@link StrategyEvent}s. */
export type StrategyEventListener = (event: StrategyEvent) => void;
