import type { Cluster, Redis } from 'ioredis';
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

/**
 * Closes a client the store created: `disconnect()` (never `quit()`, which waits on a frozen
 * server), then waits at most `boundMs` for the socket to end and destroys it if it has not.
 */
export async function closeOwnedClient(client: AnyClient, boundMs = 500): Promise<void> {
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
