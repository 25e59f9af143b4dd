/**
 * An invalidation bus over Redis pub/sub: `PUBLISH <channel> <json>` on the caller's connection,
 * `SUBSCRIBE` on a dedicated duplicate. Pub/sub is at-most-once, so every re-subscription after a
 * dropped subscriber connection (a Redis restart, `CLIENT KILL TYPE pubsub`, a failover) is
 * reported to subscribers as a gap (`onGap`): the L1 must flush or bump its generation, because
 * messages sent while it was away are gone (FAULTS D2).
 *
 * On a cluster the bus uses classic pub/sub (messages are broadcast over the cluster bus to every
 * node); sharded pub/sub is not used yet.
 *
 * Implements `InvalidationBus` from `@dc/l1` structurally; it delivers every message to every
 * subscriber, the publisher's own included (the L1 link skips its own `origin`).
 */
import { ClosedError, InvalidOptionError, jsonSerializer } from '@dc/core';
import type { Cluster, Redis } from 'ioredis';
import { bounded } from './internal/bounded';
import {
  type AnyClient,
  closeOwnedClient,
  createReadyGate,
  watchClient,
  whenReady,
} from './internal/clients';
import { openRedis } from './internal/topology';
import type { RedisConnection } from './options';

/** Message format version (same as `@dc/l1`'s `INVALIDATION_VERSION`). */
export const REDIS_BUS_MESSAGE_VERSION = 1;

/** One invalidation (same shape as `@dc/l1`'s `Invalidation`). */
export interface RedisBusMessage {
  readonly version: 1;
  readonly origin: string;
  readonly keys?: readonly string[];
  readonly clear?: boolean;
  readonly namespace?: string;
}

/** Options of {@link RedisInvalidationBus.subscribe}. */
export interface RedisBusSubscribeOptions {
  /** Called after the subscriber connection was lost and re-established: flush the L1. */
  onGap?: () => void;
}

/** A Redis pub/sub invalidation bus; structurally a `@dc/l1` `InvalidationBus`. */
export interface RedisInvalidationBus {
  readonly name: string;
  publish(message: RedisBusMessage): Promise<void>;
  subscribe(handler: (message: RedisBusMessage) => void, options?: RedisBusSubscribeOptions): () => void;
  close(): Promise<void>;
  /** Times the subscriber re-subscribed after a lost connection. */
  readonly gaps: number;
  /** Resolves once the first `SUBSCRIBE` is confirmed (messages published before may be missed). */
  ready(): Promise<void>;
}

/** Options for {@link createRedisBus}. */
export interface RedisBusOptions {
  /** Client you own to publish on; the bus subscribes on its `duplicate()`. */
  client?: Redis | Cluster;
  /** Or a connection the bus opens (and closes) itself. */
  connection?: RedisConnection;
  /** Pub/sub channel. @default 'dc:invalidation' */
  channel?: string;
  /** Bound on each publish (ms). @default 1000 */
  publishTimeoutMs?: number;
}

/** Defaults for {@link RedisBusOptions}. */
export const DEFAULT_REDIS_BUS_OPTIONS = Object.freeze({
  channel: 'dc:invalidation',
  publishTimeoutMs: 1_000,
});

function problemOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return `expected an object, got ${typeof value}`;
  const { version, origin, keys, clear, namespace } = value as Record<string, unknown>;
  if (version !== REDIS_BUS_MESSAGE_VERSION) return `\`version\` must be ${REDIS_BUS_MESSAGE_VERSION}`;
  if (typeof origin !== 'string' || origin.length === 0) return '`origin` must be a non-empty string';
  if (keys !== undefined) {
    if (!Array.isArray(keys)) return '`keys` must be an array of strings';
    if (keys.some((k) => typeof k !== 'string' || k.length === 0))
      return '`keys` must hold non-empty strings';
  }
  if (clear !== undefined && typeof clear !== 'boolean') return '`clear` must be a boolean';
  if (namespace !== undefined && typeof namespace !== 'string') return '`namespace` must be a string';
  if (clear !== true && (keys === undefined || (keys as unknown[]).length === 0)) {
    return 'a message needs `keys` or `clear: true`';
  }
  return undefined;
}

/**
 * Creates a {@link RedisInvalidationBus}. The constructor does not wait for Redis.
 * @throws InvalidOptionError for bad options.
 */
export function createRedisBus(options: RedisBusOptions): RedisInvalidationBus {
  if ((options.client === undefined) === (options.connection === undefined)) {
    throw new InvalidOptionError(
      '[dc:redis] pass exactly one of `client` and `connection` to createRedisBus',
    );
  }
  const channel = options.channel ?? DEFAULT_REDIS_BUS_OPTIONS.channel;
  const publishTimeoutMs = options.publishTimeoutMs ?? DEFAULT_REDIS_BUS_OPTIONS.publishTimeoutMs;
  if (typeof channel !== 'string' || channel.length === 0) {
    throw new InvalidOptionError('[dc:redis] `channel` must be a non-empty string');
  }
  const owned = options.client === undefined;
  const publisher: AnyClient =
    options.client ?? openRedis(options.connection as RedisConnection, publishTimeoutMs);
  // The subscriber keeps its own small offline queue so SUBSCRIBE can be sent before it connects;
  // ioredis re-subscribes by itself after every reconnect.
  const subscriber = (publisher as Redis).duplicate({
    enableOfflineQueue: true,
    autoResubscribe: true,
    lazyConnect: false,
  } as never) as AnyClient;
  const detachPublisher = watchClient(publisher, { onReady() {}, onError() {} });
  subscriber.on('error', () => {});

  const handlers = new Map<(message: RedisBusMessage) => void, RedisBusSubscribeOptions | undefined>();
  let closed = false;
  let everReady = false;
  let gaps = 0;

  subscriber.on('ready', () => {
    if (!everReady) {
      everReady = true;
      return;
    }
    gaps++;
    for (const subOptions of [...handlers.values()]) {
      try {
        subOptions?.onGap?.();
      } catch {
        // A subscriber's failure must not stop the others from resyncing.
      }
    }
  });
  subscriber.on('message', (from: string, text: string) => {
    if (closed || from !== channel) return;
    let message: unknown;
    try {
      message = jsonSerializer.decode(text);
    } catch {
      return;
    }
    if (problemOf(message) !== undefined) return;
    for (const handler of [...handlers.keys()]) {
      try {
        handler(message as RedisBusMessage);
      } catch {
        // One handler's bug must not affect the others or the publisher.
      }
    }
  });
  const subscribed = subscriber.subscribe(channel).then(
    () => undefined,
    () => undefined,
  );
  const publisherGate = createReadyGate(publisher);

  return {
    name: 'redis',
    get gaps() {
      return gaps;
    },
    ready: () => subscribed,
    async publish(message) {
      if (closed) throw new ClosedError('[dc:redis] bus is closed');
      const problem = problemOf(message);
      if (problem !== undefined)
        throw new InvalidOptionError(`[dc:redis] invalid invalidation message: ${problem}`);
      const text = JSON.stringify(message);
      await bounded(
        whenReady(publisherGate, () => publisher.publish(channel, text)),
        publishTimeoutMs,
        'bus publish',
      );
    },
    subscribe(handler, subOptions) {
      if (closed) throw new ClosedError('[dc:redis] bus is closed');
      // A wrapper per call keeps two subscriptions of one function independent.
      const own = (message: RedisBusMessage) => handler(message);
      handlers.set(own, subOptions);
      return () => {
        handlers.delete(own);
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      handlers.clear();
      detachPublisher();
      await Promise.all([
        closeOwnedClient(subscriber),
        owned ? closeOwnedClient(publisher) : Promise.resolve(),
      ]);
    },
  };
}
