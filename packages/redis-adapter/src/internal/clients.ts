import type { Cluster, Redis } from 'ioredis';
import { reconnectDelayMs } from '../client-options';
import { guardReplyDepth } from '../reply-depth-guard';

/** A standalone client or a cluster client. */
export type AnyClient = Redis | Cluster;

/**
 * Before a client's first `ready`, commands would fail at once (the offline queue is off), so
 * they wait for `ready` instead; the caller's own deadline still bounds the wait. After the
 * first connection, a client that is not ready fails fast.
 */
export function createReadyGate(client: AnyClient): () => Promise<void> | undefined {
  let everReady = client.status === 'ready';
  let waiting: Promise<void> | undefined;
  if (!everReady) {
    waiting = new Promise<void>((resolve) => {
      client.once('ready', () => {
        everReady = true;
        waiting = undefined;
        resolve();
      });
    });
    if (client.status === 'wait') client.connect().catch(() => {});
  }
  return () => (everReady || client.status === 'ready' ? undefined : waiting);
}

/** Runs `fn` now, or once the client first became ready. */
export function whenReady<T>(gate: () => Promise<void> | undefined, fn: () => Promise<T>): Promise<T> {
  const waiting = gate();
  return waiting === undefined ? fn() : waiting.then(fn);
}

/**
 * Listens to a client for the store's lifetime; returns a detach function. Every client gets
 * an `error` listener, so ioredis never prints "Unhandled error event", and the reply-depth
 * guard (FAULTS C5; it stays on after detach).
 */
export function watchClient(
  client: AnyClient,
  handlers: { onReady(): void; onError(error: Error): void },
): () => void {
  guardReplyDepth(client);
  const onReady = () => handlers.onReady();
  const onError = (error: Error) => handlers.onError(error);
  client.on('ready', onReady);
  client.on('error', onError);
  return () => {
    client.off('ready', onReady);
    client.off('error', onError);
  };
}

/** Owned clients being closed by their owner: their `end` is final. */
const closedByOwner = new WeakSet<AnyClient>();
/** Cancels the pending reconnect of a client {@link keepConnected} watches. */
const cancelReconnect = new WeakMap<AnyClient, () => void>();

/**
 * Reconnects an owned client that ioredis ended while connecting, with the usual reconnect
 * backoff, until it is ready again or {@link closeOwnedClient} closes it.
 *
 * ioredis ends a client for good, without asking its `retryStrategy`, when its connector's
 * `connect()` rejects. A Sentinel client does that after a failover: the failover detector of
 * its previous connection is never cleaned up when that connection drops (ioredis#1362), and
 * on `+switch-master` it disconnects the connector while the client is resolving the new
 * primary. Every later command then failed with "Connection is closed" until the process
 * restarted (FAULTS S1: 3 of 6 runs with Sentinel's shorter test periods).
 *
 * An `end` that follows `close` is left alone: that is `disconnect()` or a `retryStrategy`
 * that chose to stop.
 */
export function keepConnected(client: Redis): Redis {
  let attempt = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  // ioredis emits each status as an event, in order: `connecting` … `end` is the rejected connect.
  let connecting = false;
  client.on('connecting', () => {
    connecting = true;
  });
  for (const status of ['connect', 'ready', 'close']) {
    client.on(status, () => {
      connecting = false;
    });
  }
  client.on('ready', () => {
    attempt = 0;
  });
  client.on('end', () => {
    const endedWhileConnecting = connecting;
    connecting = false;
    if (!endedWhileConnecting || closedByOwner.has(client) || timer !== undefined) return;
    timer = setTimeout(() => {
      timer = undefined;
      // A rejected connect() ends the client again, which schedules the next attempt.
      if (!closedByOwner.has(client) && client.status === 'end') client.connect().catch(() => {});
    }, reconnectDelayMs(++attempt));
    // A client nobody closed must not keep the process alive on its own.
    timer.unref?.();
  });
  cancelReconnect.set(client, () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  });
  return client;
}

/**
 * Closes a client the store created: `disconnect()` (never `quit()`, which waits on a frozen
 * server), then waits at most `boundMs` for the socket to end and destroys it if it has not.
 */
export async function closeOwnedClient(client: AnyClient, boundMs = 500): Promise<void> {
  closedByOwner.add(client);
  cancelReconnect.get(client)?.();
  if (client.status === 'end') return;
  // A listener keeps late socket errors during shutdown from becoming unhandled.
  client.on('error', () => {});
  const stream = (client as { stream?: { destroyed?: boolean; destroy?: () => void } }).stream;
  const ended = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, boundMs);
    client.once('end', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  client.disconnect();
  // A client between reconnect attempts has no open socket and never emits `end` again.
  if ((client.status as string) === 'end' || stream === undefined || stream.destroyed === true) {
    client.emit('end');
  }
  await ended;
  stream?.destroy?.();
}
