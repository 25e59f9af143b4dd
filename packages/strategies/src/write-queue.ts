/**
 * The durable write queue behind write-behind. It follows Redis Streams consumer-group
 * semantics so the in-memory queue here and the Redis Streams queue in `@dc/redis-adapter`
 * behave alike: `enqueue` is `XADD`, `claim` is `XAUTOCLAIM` (entries idle on a dead consumer)
 * followed by `XREADGROUP >` (new entries), `ack` is `XACK`, `pending` is `XLEN` + `XPENDING`.
 */

/** One write to apply to the data source: a value, or a delete (a tombstone). */
export type WriteRequest<V> =
  | { readonly key: string; readonly op: 'set'; readonly value: V }
  | { readonly key: string; readonly op: 'delete' };

/** A write as stored in the queue. */
export type QueuedWrite<V> = WriteRequest<V> & {
  /**
   * Position in the queue: strictly increasing over the whole queue in enqueue order, so also
   * per key. The flusher applies only the highest version per key and acks by version.
   */
  readonly version: number;
  /** When the entry was enqueued (epoch ms), for the lag metric. */
  readonly enqueuedAt: number;
  /** How many times the entry has been handed out by `claim` (1 on first delivery). */
  readonly deliveries: number;
};

/** Options for {@link WriteQueue.claim}. */
export interface ClaimOptions {
  /** Most entries to return (integer >= 1). */
  readonly count: number;
  /**
   * Also take over entries claimed by any consumer (this one included) and not acked for at
   * least this long (ms), as `XAUTOCLAIM` does for a consumer that died. Omit to read new
   * entries only.
   */
  readonly minIdleMs?: number;
}

/** What {@link WriteQueue.pending} reports. */
export interface WriteQueueStats {
  /** Entries not yet acked, claimed or not. */
  readonly depth: number;
  /** Entries claimed by some consumer and not yet acked (the pending entries list). */
  readonly inFlight: number;
  /** `enqueuedAt` of the oldest unacked entry, or `undefined` when empty. */
  readonly oldestEnqueuedAt: number | undefined;
}

/** A bounded, ordered write queue with consumer-group delivery. */
export interface WriteQueue<V = unknown> {
  /** Short name used in messages (`'memory'`, `'redis-stream'`). */
  readonly name: string;
  /**
   * Appends a write and resolves once the queue holds it (that is what write-behind acks on).
   * @throws BackpressureError (`E_BACKPRESSURE`) when the queue is full; nothing is added.
   * @throws InvalidKeyError for an invalid key; ClosedError after `close()`.
   */
  enqueue(write: WriteRequest<V>): Promise<QueuedWrite<V>>;
  /**
   * Hands `consumer` up to `count` entries, oldest first: first entries idle for `minIdleMs`
   * on any consumer (re-delivered, `deliveries` incremented), then entries never delivered.
   * A claimed entry is not handed to anyone else until it has been idle for `minIdleMs`.
   */
  claim(consumer: string, options: ClaimOptions): Promise<QueuedWrite<V>[]>;
  /**
   * Removes entries by version once applied. Idempotent: unknown or already-acked versions are
   * ignored; any consumer may ack. Resolves the number actually removed.
   */
  ack(versions: readonly number[]): Promise<number>;
  /** Depth, in-flight count and the oldest entry's age. */
  pending(): Promise<WriteQueueStats>;
  /** Releases the queue. For a durable queue the entries stay; for the memory queue they are lost. */
  close(): Promise<void>;
}
