/**
 * The bus subscriber on a Redis Cluster: one connection of its own to the primary that owns the
 * channel's slot, `SSUBSCRIBE` (sharded pub/sub, Redis ≥ 7) or `SUBSCRIBE` (classic) on it.
 *
 * Not ioredis' `shardedSubscribers` group: that group gives no signal when a channel is
 * subscribed again after a lost connection (so a gap could not be reported), differs between
 * ioredis 5 and 6, and in ioredis 5 a slot migration's server-sent `SUNSUBSCRIBE` leaves the
 * channel unsubscribed until the next topology refresh. Here every loss is seen — the connection
 * closes or errors, the server unsubscribes us (`moved` in ioredis 6, a queue-state `error` in
 * ioredis 5), or the cluster's slot map names another owner — and the subscription is rebuilt on
 * the current owner; each confirmed re-subscription is reported as a gap.
 */

import { keySlot } from '@dc/hashing';
import type { Cluster, Redis } from 'ioredis';
import { reconnectDelayMs } from '../client-options';
import { guardReplyDepth } from '../reply-depth-guard';
import { bounded } from './bounded';
import { closeOwnedClient } from './clients';

/** Options of {@link openClusterSubscription}. */
export interface ClusterSubscriptionOptions {
  /** The cluster whose slot map names the channel's owner (the bus' publisher). */
  readonly cluster: Cluster;
  readonly channel: string;
  /** `SSUBSCRIBE`/`smessage` when true, `SUBSCRIBE`/`message` when false. */
  readonly sharded: boolean;
  /** Bound on one connect + subscribe attempt, and on one slot-map refresh (ms). */
  readonly attemptTimeoutMs: number;
  /** Name of the subscriber connection (`CLIENT SETNAME`). */
  readonly connectionName: string;
  readonly onMessage: (payload: string) => void;
  /** The channel is subscribed again after a loss: messages in between are gone. */
  readonly onGap: () => void;
}

/** A running cluster subscription. */
export interface ClusterSubscription {
  /** Resolves once the first subscription is confirmed, refused by the server, or closed. */
  ready(): Promise<void>;
  /** `host:port` of the node the channel is subscribed on now, if any. */
  node(): string | undefined;
  /** Stops re-subscribing and closes the connection; resolves when nothing is left open. */
  close(): Promise<void>;
}

function nodeKeyOf(node: Redis): string {
  return `${node.options.host ?? '127.0.0.1'}:${node.options.port ?? 6379}`;
}

/** Starts subscribing at once; never throws (failures are retried with backoff until close). */
export function openClusterSubscription(options: ClusterSubscriptionOptions): ClusterSubscription {
  const { cluster, channel, sharded, attemptTimeoutMs } = options;
  const slot = keySlot(channel);
  const messageEvent = sharded ? 'smessage' : 'message';
  let closed = false;
  let subscribedNode: string | undefined;
  let connection: Redis | undefined;
  let wakeUp: (() => void) | undefined;
  let markReady: () => void = () => {};
  const readyPromise = new Promise<void>((resolve) => {
    markReady = resolve;
  });

  /** Waits until `until` settles, `ms` passed or close() was called, whichever comes first. */
  const idle = (ms: number, until?: Promise<void>) =>
    new Promise<void>((resolve) => {
      if (closed) {
        resolve();
        return;
      }
      const done = () => {
        clearTimeout(timer);
        wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      wakeUp = done;
      until?.then(done, done);
    });

  const ownerKey = (): string | undefined => cluster.slots[slot]?.[0];

  /** Re-reads the slot map (after a failover it still names the dead primary until it ran). */
  const refreshSlots = () =>
    idle(attemptTimeoutMs, new Promise<void>((resolve) => cluster.refreshSlotsCache(() => resolve())));

  /** A connection to `owner` with the cluster's node options (auth, TLS), reconnects left to us. */
  const openConnection = (owner: Redis): Redis => {
    const created = owner.duplicate({
      lazyConnect: true,
      enableOfflineQueue: true,
      enableReadyCheck: false,
      retryStrategy: null,
      autoResubscribe: false,
      readOnly: false,
      // `channel` is the name on the wire already.
      keyPrefix: '',
      connectionName: options.connectionName,
      // RESP2 in ioredis 6 too, so `smessage`/`message` and server-sent unsubscribes arrive the
      // same way in both majors.
      protocol: 2,
      replyMapping: 'legacy',
    } as never) as Redis;
    created.on('error', () => {});
    guardReplyDepth(created);
    return created;
  };

  /**
   * Resolves when the subscription on `conn` (on node `key`) can no longer be trusted. Any
   * `error` counts: ioredis 5 reports a server-sent `SUNSUBSCRIBE` only as a queue-state error.
   */
  const watchLoss = (conn: Redis, key: string) => {
    let stop: () => void = () => {};
    const lost = new Promise<void>((resolve) => {
      const onLoss = () => {
        stop();
        resolve();
      };
      const onRefresh = () => {
        const owner = ownerKey();
        if (owner !== undefined && owner !== key) onLoss();
      };
      for (const event of ['close', 'end', 'error', 'moved']) conn.on(event, onLoss);
      cluster.on('refresh', onRefresh);
      stop = () => {
        for (const event of ['close', 'end', 'error', 'moved']) conn.off(event, onLoss);
        cluster.off('refresh', onRefresh);
      };
    });
    return { lost, stop: () => stop() };
  };

  const run = async () => {
    let failures = 0;
    let everSubscribed = false;
    let refresh = false;
    while (!closed) {
      if (refresh) await refreshSlots();
      refresh = true;
      if (closed) break;
      const key = ownerKey();
      const owner = key === undefined ? undefined : cluster.nodes('master').find((n) => nodeKeyOf(n) === key);
      if (key === undefined || owner === undefined) {
        await idle(reconnectDelayMs(failures++));
        continue;
      }
      const conn = openConnection(owner);
      connection = conn;
      let live = true;
      conn.on(messageEvent, (from: string, payload: unknown) => {
        // Every message of this connection counts, also those that arrive in the same read as
        // the subscribe confirmation.
        if (live && !closed && from === channel && typeof payload === 'string') options.onMessage(payload);
      });
      const watch = watchLoss(conn, key);
      try {
        const subscribing = (sharded ? conn.ssubscribe(channel) : conn.subscribe(channel)).then(() => {});
        const failed = watch.lost.then(() => {
          throw new Error('subscriber connection lost');
        });
        // A MOVED reply to SSUBSCRIBE never settles its command in ioredis 5: the bound frees us.
        await bounded(Promise.race([subscribing, failed]), attemptTimeoutMs, 'bus subscribe');
      } catch (error) {
        // The server refused (ACL, unknown command): ready() must not wait forever; retries go on.
        if ((error as { cause?: { name?: string } }).cause?.name === 'ReplyError') markReady();
        watch.stop();
        live = false;
        connection = undefined;
        await closeOwnedClient(conn);
        await idle(reconnectDelayMs(failures++));
        continue;
      }
      if (closed) {
        watch.stop();
        break;
      }
      failures = 0;
      subscribedNode = key;
      if (everSubscribed) options.onGap();
      everSubscribed = true;
      markReady();
      await watch.lost;
      live = false;
      subscribedNode = undefined;
      connection = undefined;
      await closeOwnedClient(conn);
    }
    markReady();
  };
  const running = run();

  return {
    ready: () => readyPromise,
    node: () => subscribedNode,
    async close() {
      if (closed) return running;
      closed = true;
      wakeUp?.();
      const conn = connection;
      if (conn !== undefined) await closeOwnedClient(conn);
      await running;
    },
  };
}
