/**
 * An invalidation bus over Redis pub/sub: `PUBLISH <channel> <json>` on the caller's connection,
 * `SUBSCRIBE` on a dedicated duplicate. Pub/sub is at-most-once, so every re-subscription after a
 * dropped subscriber connection (a Redis restart, `CLIENT KILL TYPE pubsub`, a failover) is
 * reported to subscribers as a gap (`onGap`): the L1 must flush or bump its generation, because
 * messages sent while it was away are gone (FAULTS D2).
 *
 * On a cluster the bus uses sharded pub/sub when the server has it (option `sharded`):
 * `SPUBLISH`/`SSUBSCRIBE` (Redis ≥ 7), so a message only travels within the shard that owns the channel's slot, instead
 * of classic pub/sub's broadcast over the cluster bus to every node. The cluster subscriber
 * (`internal/cluster-subscription.ts`) follows the slot's owner through failovers and slot moves
 * and reports every re-subscription as a gap, in both modes.
 *
 * Implements `InvalidationBus` from `@dc/l1` structurally; it delivers every message to every
 * subscriber, the publisher's own included (the L1 link skips its own `origin`).
 */

import { randomUUID } from 'node:crypto';
import { ClosedError, InvalidOptionError, jsonSerializer } from '@dc/core';
import type { Cluster, Redis } from 'ioredis';
import { reconnectDelayMs } from './client-options';
import { bounded } from './internal/bounded';
import {
  type AnyClient,
  closeOwnedClient,
  createReadyGate,
  keepConnected,
  watchClient,
  whenReady,
} from './internal/clients';
import { type ClusterSubscription, openClusterSubscription } from './internal/cluster-subscription';
import { isCluster, openRedis } from './internal/topology';
import { assertNamespace, namespacePrefix } from './namespace';
import type { RedisConnection } from './options';
import { guardReplyDepth } from './reply-depth-guard';

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
  /**
   * `'sharded'` (`SPUBLISH`/`SSUBSCRIBE`) or `'classic'` (`PUBLISH`/`SUBSCRIBE`); undefined while a
   * cluster bus still asks the server whether it has sharded pub/sub.
   */
  readonly transport: 'sharded' | 'classic' | undefined;
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
  /**
   * Sharded pub/sub on a Cluster client (`SPUBLISH`/`SSUBSCRIBE`, Redis ≥ 7): a message stays on
   * the shard that owns the channel's slot instead of being broadcast to every node. `'auto'`
   * uses it when the server knows `SPUBLISH` (asked once, at start), `true` without asking,
   * `false` never (classic pub/sub). Every bus on a channel must use the same transport: a
   * sharded publish never reaches a classic subscriber. Pin it (`true`/`false`) when instances
   * may start on both sides of a Redis 6 → 7 upgrade. Ignored by a standalone client (`true`
   * there is an error). @default 'auto'
   */
  sharded?: 'auto' | boolean;
  /**
   * Also turn Redis' own key-change notifications into invalidations (server-assisted client-side
   * caching, `CLIENT TRACKING ON REDIRECT <subscriber> BCAST PREFIX <namespace prefix>`): writes by
   * any client, expiries, evictions and `FLUSHALL` (a flush-everything message) reach subscribers
   * even when the writer never published. The subscriber speaks RESP2 (ioredis 5), where the
   * invalidation arrives as a `__redis__:invalidate` message. Standalone only.
   */
  tracking?: {
    /** The `createRedisStore` namespace whose keys to track. */
    namespace: string;
    /** `namespace` of the emitted messages (the L1 link's namespace). @default absent */
    l1Namespace?: string;
  };
}

/** `origin` of the messages the tracking mode emits. */
export const TRACKING_ORIGIN = 'redis-tracking';

/** Defaults for {@link RedisBusOptions}. */
export const DEFAULT_REDIS_BUS_OPTIONS = Object.freeze({
  channel: 'dc:invalidation',
  publishTimeoutMs: 1_000,
  sharded: 'auto' as 'auto' | boolean,
});

const TRACKING_CHANNEL = '__redis__:invalidate';

/**
 * A `__redis__:invalidate` payload as a message: an array of Redis keys (those of `namespace`
 * become user keys), or nil for a `FLUSHALL`/`FLUSHDB` (flush everything).
 */
function trackingMessage(
  payload: unknown,
  namespace: string,
  l1Namespace: string | undefined,
): RedisBusMessage | undefined {
  const base =
    l1Namespace === undefined
      ? { version: 1 as const, origin: TRACKING_ORIGIN }
      : { version: 1 as const, origin: TRACKING_ORIGIN, namespace: l1Namespace };
  if (payload === null || payload === undefined) return { ...base, clear: true };
  if (!Array.isArray(payload)) return undefined;
  const head = namespacePrefix(namespace);
  const keys: string[] = [];
  for (const item of payload) {
    const redisKey = String(item);
    if (!redisKey.startsWith(head)) continue;
    const rest = redisKey.slice(head.length);
    if (rest.startsWith(':') && rest.length > 1) keys.push(rest.slice(1));
    else if (rest.startsWith('#')) {
      try {
        const key = JSON.parse(rest.slice(1)) as unknown;
        if (typeof key === 'string' && key.length > 0) keys.push(key);
      } catch {
        // Not one of ours.
      }
    }
  }
  return keys.length === 0 ? undefined : { ...base, keys };
}

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

/** What the subscriber side needs from the bus. */
interface SubscriberContext {
  readonly channel: string;
  readonly isClosed: () => boolean;
  /** Decodes a payload from the channel and delivers it (malformed ones are dropped). */
  readonly receive: (payload: unknown) => void;
  readonly deliver: (message: RedisBusMessage) => void;
  readonly reportGap: () => void;
}

/** The running subscriber side of a bus. */
interface Subscriber {
  /** First subscription confirmed (or the bus closed). */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

/**
 * Standalone (or Sentinel) subscriber: `SUBSCRIBE` on a duplicate of the publisher, which
 * ioredis re-subscribes after every reconnect; each re-`ready` is a gap. With `tracking`, a
 * control connection redirects `CLIENT TRACKING` invalidations to it.
 */
function subscribeStandalone(
  publisher: Redis,
  context: SubscriberContext,
  tracking: RedisBusOptions['tracking'],
): Subscriber {
  const { channel, isClosed, deliver, reportGap } = context;
  // The subscriber keeps its own small offline queue so SUBSCRIBE can be sent before it connects;
  // ioredis re-subscribes by itself after every reconnect. It speaks RESP2 on purpose: ioredis 6
  // defaults to RESP3, where redirected tracking invalidations arrive as `invalidate` pushes that
  // it silently drops (ioredis 5 ignores both options).
  const subscriberName = `dc-bus-${randomUUID()}`;
  const subscriber = keepConnected(
    publisher.duplicate({
      enableOfflineQueue: true,
      autoResubscribe: true,
      lazyConnect: false,
      connectionName: subscriberName,
      protocol: 2,
      replyMapping: 'legacy',
    } as never) as Redis,
  );
  // Tracking is switched on by a separate connection (a RESP2 subscriber cannot run CLIENT
  // commands), redirecting to the subscriber, found by its connection name.
  const control =
    tracking === undefined
      ? undefined
      : keepConnected(
          publisher.duplicate({ enableOfflineQueue: true, lazyConnect: false } as never) as Redis,
        );
  control?.on('error', () => {});
  guardReplyDepth(subscriber);
  if (control !== undefined) guardReplyDepth(control);
  subscriber.on('error', () => {});

  const enableTracking = (): Promise<void> => {
    if (tracking === undefined || control === undefined || isClosed()) return Promise.resolve();
    return (async () => {
      // Bounded: the subscriber shows up in CLIENT LIST once it has (re)connected.
      for (let attempt = 0; attempt < 50 && !isClosed(); attempt++) {
        try {
          const list = (await control.call('CLIENT', 'LIST', 'TYPE', 'pubsub')) as string;
          const line = list.split('\n').find((l) => l.includes(` name=${subscriberName} `));
          const id = line?.match(/^id=(\d+)/)?.[1];
          if (id !== undefined) {
            await control.call(
              'CLIENT',
              'TRACKING',
              'ON',
              'REDIRECT',
              id,
              'BCAST',
              'PREFIX',
              namespacePrefix(tracking.namespace),
            );
            return;
          }
        } catch {
          // Not connected yet: try again shortly.
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
  };

  let everReady = false;
  subscriber.on('ready', () => {
    if (!everReady) {
      everReady = true;
      return;
    }
    // A new subscriber connection has a new client id: tracking must be redirected to it again.
    void enableTracking();
    reportGap();
  });
  let controlEverReady = false;
  control?.on('ready', () => {
    if (!controlEverReady) {
      controlEverReady = true;
      return;
    }
    void enableTracking();
    reportGap();
  });
  if (tracking !== undefined) {
    // RESP2 invalidations carry an array of keys (or nil for a flush), which only the Buffer
    // event passes through unflattened.
    subscriber.on('messageBuffer', (from: Buffer, payload: unknown) => {
      if (isClosed() || from.toString() !== TRACKING_CHANNEL) return;
      const message = trackingMessage(payload, tracking.namespace, tracking.l1Namespace);
      if (message !== undefined) deliver(message);
    });
  }
  subscriber.on('message', (from: string, payload: unknown) => {
    if (from === channel) context.receive(payload);
  });
  const ready = subscriber
    .subscribe(...(tracking === undefined ? [channel] : [channel, TRACKING_CHANNEL]))
    .then(() => enableTracking())
    .then(
      () => undefined,
      () => undefined,
    );
  return {
    ready,
    async close() {
      await Promise.all([
        closeOwnedClient(subscriber),
        control === undefined ? Promise.resolve() : closeOwnedClient(control),
      ]);
    },
  };
}

/**
 * Cluster subscriber: decides the transport (asks the server once when `sharded` is `'auto'`),
 * then follows the channel's slot owner with {@link openClusterSubscription}.
 */
function subscribeCluster(
  cluster: Cluster,
  context: SubscriberContext,
  settings: {
    readonly sharded: 'auto' | boolean;
    readonly gate: () => Promise<void> | undefined;
    readonly timeoutMs: number;
    readonly onTransport: (transport: 'sharded' | 'classic') => void;
  },
): Subscriber & { readonly sharded: Promise<boolean> } {
  let wakeUp: (() => void) | undefined;
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        wakeUp = undefined;
        resolve();
      }, ms);
      wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  const probe = async (): Promise<boolean> => {
    if (settings.sharded !== 'auto') return settings.sharded;
    for (let attempt = 0; !context.isClosed(); attempt++) {
      try {
        // Redis 6 answers `[nil]` for a command it does not know.
        const reply = await bounded(
          whenReady(settings.gate, () => cluster.call('COMMAND', 'INFO', 'SPUBLISH')),
          settings.timeoutMs,
          'bus sharded pub/sub probe',
        );
        return Array.isArray(reply) && reply[0] !== null && reply[0] !== undefined;
      } catch {
        await pause(reconnectDelayMs(attempt));
      }
    }
    return false;
  };
  const sharded = probe();
  let subscription: ClusterSubscription | undefined;
  const ready = sharded.then((useSharded) => {
    if (context.isClosed()) return;
    settings.onTransport(useSharded ? 'sharded' : 'classic');
    // ioredis prefixes SPUBLISH's channel with the client's `keyPrefix` (it is a key, PUBLISH's
    // is not): subscribe to what the publisher really sends to.
    const prefix = useSharded ? String(cluster.options.keyPrefix ?? '') : '';
    subscription = openClusterSubscription({
      cluster,
      channel: prefix + context.channel,
      sharded: useSharded,
      attemptTimeoutMs: Math.max(1_000, settings.timeoutMs),
      connectionName: `dc-bus-${randomUUID()}`,
      onMessage: context.receive,
      onGap: context.reportGap,
    });
    return subscription.ready();
  });
  return {
    sharded,
    ready,
    async close() {
      wakeUp?.();
      await sharded;
      await subscription?.close();
    },
  };
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
  const shardedOption = options.sharded ?? DEFAULT_REDIS_BUS_OPTIONS.sharded;
  if (shardedOption !== 'auto' && shardedOption !== true && shardedOption !== false) {
    throw new InvalidOptionError("[dc:redis] `sharded` must be 'auto', true or false");
  }
  const clientIsCluster = options.client !== undefined && isCluster(options.client);
  if (shardedOption === true && !clientIsCluster) {
    throw new InvalidOptionError('[dc:redis] `sharded: true` needs a Cluster client');
  }
  const tracking = options.tracking;
  if (tracking !== undefined) {
    assertNamespace(tracking.namespace);
    if (clientIsCluster) {
      throw new InvalidOptionError('[dc:redis] `tracking` works with a standalone client only');
    }
  }
  const owned = options.client === undefined;
  const publisher: AnyClient =
    options.client ?? openRedis(options.connection as RedisConnection, publishTimeoutMs);
  const detachPublisher = watchClient(publisher, { onReady() {}, onError() {} });

  const handlers = new Map<(message: RedisBusMessage) => void, RedisBusSubscribeOptions | undefined>();
  let closed = false;
  let gaps = 0;

  const reportGap = () => {
    if (closed) return;
    gaps++;
    for (const subOptions of [...handlers.values()]) {
      try {
        subOptions?.onGap?.();
      } catch {
        // A subscriber's failure must not stop the others from resyncing.
      }
    }
  };
  const deliver = (message: RedisBusMessage) => {
    for (const handler of [...handlers.keys()]) {
      try {
        handler(message);
      } catch {
        // One handler's bug must not affect the others or the publisher.
      }
    }
  };
  // Anything on the channel may be garbage (another app, a bad actor): drop what does not decode.
  const receive = (payload: unknown) => {
    if (closed || typeof payload !== 'string') return;
    let message: unknown;
    try {
      message = jsonSerializer.decode(payload);
    } catch {
      return;
    }
    if (problemOf(message) !== undefined) return;
    deliver(message as RedisBusMessage);
  };
  const context: SubscriberContext = { channel, isClosed: () => closed, receive, deliver, reportGap };
  const publisherGate = createReadyGate(publisher);

  let transport: 'sharded' | 'classic' | undefined;
  let sharded: Promise<boolean>;
  let subscriber: Subscriber;
  if (isCluster(publisher)) {
    const clusterSubscriber = subscribeCluster(publisher, context, {
      sharded: shardedOption,
      gate: publisherGate,
      timeoutMs: publishTimeoutMs,
      onTransport: (picked) => {
        transport = picked;
      },
    });
    sharded = clusterSubscriber.sharded;
    subscriber = clusterSubscriber;
  } else {
    transport = 'classic';
    sharded = Promise.resolve(false);
    subscriber = subscribeStandalone(publisher, context, tracking);
  }

  return {
    name: 'redis',
    get gaps() {
      return gaps;
    },
    get transport() {
      return transport;
    },
    ready: () => subscriber.ready,
    async publish(message) {
      if (closed) throw new ClosedError('[dc:redis] bus is closed');
      const problem = problemOf(message);
      if (problem !== undefined)
        throw new InvalidOptionError(`[dc:redis] invalid invalidation message: ${problem}`);
      const text = JSON.stringify(message);
      await bounded(
        whenReady(publisherGate, async () =>
          (await sharded) ? publisher.spublish(channel, text) : publisher.publish(channel, text),
        ),
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
      await Promise.all([subscriber.close(), owned ? closeOwnedClient(publisher) : Promise.resolve()]);
    },
  };
}
