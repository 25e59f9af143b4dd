import { describeValue, InvalidOptionError } from '@dc/core';

/** Version of the {@link Invalidation} message format; receivers ignore versions they do not know. */
export const INVALIDATION_VERSION = 1;

/**
 * One invalidation on an {@link InvalidationBus}: "these keys changed" or "flush everything".
 *
 * - `keys`: evict these keys (relative to `namespace`).
 * - `clear: true`: flush every L1 in `namespace`, or every L1 on the bus when `namespace` is
 *   absent.
 *
 * A message carries `keys`, `clear: true`, or both. Plain JSON, so a bus over Redis pub/sub
 * can send it as is.
 */
export interface Invalidation {
  /** Message format version, {@link INVALIDATION_VERSION}. */
  readonly version: typeof INVALIDATION_VERSION;
  /** Instance id of the publisher; a subscriber ignores messages with its own id. */
  readonly origin: string;
  /** Keys that were written or deleted. */
  readonly keys?: readonly string[];
  /** Flush every entry (of `namespace`, when given). */
  readonly clear?: boolean;
  /** The namespace the keys belong to; subscribers in other namespaces ignore the message. */
  readonly namespace?: string;
}

/** Receives every message published on a bus, including the subscriber's own. */
export type InvalidationHandler = (message: Invalidation) => void;

/** Options of {@link InvalidationBus.subscribe}. */
export interface InvalidationSubscribeOptions {
  /**
   * Called when the bus may have lost messages (reconnect after a drop: pub/sub is
   * at-most-once). The subscriber must assume anything changed and flush its L1.
   */
  onGap?: () => void;
}

/**
 * The contract between L1 stores and the transport that tells them about each other's writes.
 * Implementations: {@link createInProcessBus} here, a Redis pub/sub bus in
 * `@dc/redis-adapter`. Every implementation passes `runInvalidationBusContract`
 * (`packages/l1/test/bus-contract.ts`).
 *
 * - `publish` validates the message (a rejection with `E_INVALID_OPTION`, nothing sent) and
 *   resolves once the transport accepted it; it rejects (never throws) when it could not.
 * - Delivery is at most once and in publish order per publisher; a handler that throws does not
 *   affect other handlers or the publisher.
 * - After `close()`, `publish` rejects with `E_CLOSED` and no handler is called again.
 */
export interface InvalidationBus {
  /** Short name for errors and metrics (`'in-process'`, `'redis'`). */
  readonly name: string;
  /** Sends `message` to every subscriber of every endpoint of the bus. */
  publish(message: Invalidation): Promise<void>;
  /**
   * Calls `handler` for every message from now on. Returns an idempotent unsubscribe.
   * @throws ClosedError after `close()`.
   */
  subscribe(handler: InvalidationHandler, options?: InvalidationSubscribeOptions): () => void;
  /** Stops delivery and releases what the bus created. Idempotent. */
  close(): Promise<void>;
}

/** Why {@link describeInvalidationProblem} rejected a value, or `undefined` when it is valid. */
function problemOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return `got ${describeValue(value)}`;
  const { version, origin, keys, clear, namespace } = value as Record<string, unknown>;
  if (version !== INVALIDATION_VERSION)
    return `\`version\` must be ${INVALIDATION_VERSION}, got ${describeValue(version)}`;
  if (typeof origin !== 'string' || origin.length === 0)
    return `\`origin\` must be a non-empty instance id, got ${describeValue(origin)}`;
  if (keys !== undefined) {
    if (!Array.isArray(keys)) return `\`keys\` must be an array of strings, got ${describeValue(keys)}`;
    for (const key of keys) {
      if (typeof key !== 'string' || key.length === 0)
        return `\`keys\` must hold non-empty strings, got ${describeValue(key)}`;
    }
  }
  if (clear !== undefined && typeof clear !== 'boolean')
    return `\`clear\` must be a boolean, got ${describeValue(clear)}`;
  if (namespace !== undefined && typeof namespace !== 'string')
    return `\`namespace\` must be a string, got ${describeValue(namespace)}`;
  if (clear !== true && (keys === undefined || (keys as unknown[]).length === 0))
    return 'a message needs `keys` or `clear: true`';
  return undefined;
}

/**
 * True when `value` is a well-formed {@link Invalidation}. A bus that decodes messages from
 * the network uses it to drop malformed ones.
 */
export function isInvalidation(value: unknown): value is Invalidation {
  return problemOf(value) === undefined;
}

/**
 * Throws {@link InvalidOptionError} naming the bad field unless `value` is a well-formed
 * {@link Invalidation}. `scope` names the package in the message.
 */
export function assertInvalidation(value: unknown, scope = 'l1'): asserts value is Invalidation {
  const problem = problemOf(value);
  if (problem !== undefined)
    throw new InvalidOptionError(`[dc:${scope}] invalid invalidation message: ${problem}`);
}
