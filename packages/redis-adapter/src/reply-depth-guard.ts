import { assertInteger, CacheUnavailableError, InvalidOptionError } from '@dc/core';
import { Cluster, type Redis } from 'ioredis';
import { createRespDepthScanner } from './internal/resp-depth-scanner';

/**
 * Deepest reply nesting the guard lets through. Real commands nest a few levels (XINFO FULL,
 * CLUSTER SHARDS: ≤ 6); ioredis' parser (redis-parser 3) recurses 3 frames per level and
 * overflows the stack between 2,000 and 3,000 levels, so 512 leaves a wide margin.
 */
export const MAX_REPLY_DEPTH = 512;

// Deepest limit accepted: redis-parser 3 still parses 2,000 levels on a fresh stack.
const MAX_REPLY_DEPTH_LIMIT = 2_000;

const GUARDED = Symbol.for('@dc/redis-adapter:reply-depth-guard');

interface EmitterStream {
  emit(event: string | symbol, ...args: unknown[]): boolean;
  destroy(error?: Error): void;
  [GUARDED]?: true;
}
interface RedisInternals {
  stream?: EmitterStream;
  commandQueue?: { length: number };
  [GUARDED]?: true;
}

/**
 * Protects a client from replies nested deeper than `maxDepth` (FAULTS C5). ioredis' RESP
 * parser is recursive: a reply nested ~3,000 levels deep overflows the stack inside the
 * socket's `data` handler, where no command can catch it (an `uncaughtException`). The guard
 * scans every incoming chunk for nesting depth before the parser sees it; on a reply that is too
 * deep it destroys the socket with a `CacheUnavailableError` (reported on the client's `error`
 * event), so the commands in flight fail, ioredis reconnects, and the store's breaker and
 * fail-open/closed logic apply.
 *
 * Works on a `Redis` (standalone, Sentinel) or a `Cluster` (every node, present and future);
 * calling it again is a no-op. The store, bus, lock, lease store and queue apply it to every client
 * they use. It relies on
 * ioredis 5 internals (`client.stream`, the socket's `emit`); a client that is already connected
 * with commands in flight is guarded from its next connection on.
 *
 * @param maxDepth deepest nesting accepted (array levels, 1–2,000; the parser overflows near
 * 3,000). @default 512
 * @throws InvalidOptionError when `maxDepth` is not an integer in 1–2,000.
 */
export function guardReplyDepth(client: Redis | Cluster, maxDepth: number = MAX_REPLY_DEPTH): void {
  assertInteger(maxDepth, 'maxDepth', 1, 'redis');
  if (maxDepth > MAX_REPLY_DEPTH_LIMIT) {
    throw new InvalidOptionError(
      `[dc:redis] \`maxDepth\` must be at most ${MAX_REPLY_DEPTH_LIMIT} (ioredis' parser overflows the stack near 3,000 levels), got ${maxDepth}`,
    );
  }
  if (client instanceof Cluster) {
    const cluster = client as Cluster & { [GUARDED]?: true };
    if (cluster[GUARDED]) return;
    cluster[GUARDED] = true;
    for (const node of cluster.nodes('all')) guardReplyDepth(node, maxDepth);
    cluster.on('+node', (node: Redis) => guardReplyDepth(node, maxDepth));
    return;
  }
  const redis = client as unknown as RedisInternals & Redis;
  if (redis[GUARDED]) return;
  redis[GUARDED] = true;
  // ioredis emits `connect` on the tick after the socket connected, before any reply byte can
  // arrive, so every connection is scanned from its first byte.
  redis.on('connect', () => {
    if (redis.stream !== undefined) guardStream(redis.stream, maxDepth);
  });
  // A connected socket is at a reply boundary only when nothing is in flight.
  if (redis.status === 'ready' && redis.stream !== undefined && redis.commandQueue?.length === 0) {
    guardStream(redis.stream, maxDepth);
  }
}

function guardStream(stream: EmitterStream, maxDepth: number): void {
  if (stream[GUARDED]) return;
  stream[GUARDED] = true;
  const scanner = createRespDepthScanner(maxDepth);
  const emit = stream.emit;
  stream.emit = function (this: unknown, event: string | symbol, chunk?: unknown): boolean {
    if (event === 'data') {
      if (chunk instanceof Uint8Array && !scanner.push(chunk)) {
        stream.destroy(
          new CacheUnavailableError(
            `[dc:redis-adapter] Redis sent a reply nested deeper than ${maxDepth} levels; connection closed before ioredis' parser could overflow the stack (FAULTS C5)`,
          ),
        );
        return false;
      }
    }
    // `arguments` forwards every listener argument without copying them on the hot path.
    // biome-ignore lint/complexity/noArguments: see above
    return emit.apply(this, arguments as unknown as [string | symbol, ...unknown[]]);
  };
}
