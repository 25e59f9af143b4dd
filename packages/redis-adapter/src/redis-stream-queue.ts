/**
 * A durable write-behind queue on a Redis Stream with one consumer group, following
 * `@dc/strategies`' `WriteQueue` contract (implemented structurally):
 *
 * - enqueue: one Lua script checks `XLEN < maxLen` (else `E_BACKPRESSURE`: nothing is trimmed or
 *   dropped silently) and runs `XADD <stream> 0-* k <key> o <op> v <value> t <enqueuedAt>`. The
 *   `0-*` ID makes Redis assign `0-1, 0-2, …`, so the version is the ID's sequence number:
 *   strictly increasing over the stream, and an ack by version needs no lookup;
 * - claim: `XAUTOCLAIM` of entries idle for `minIdleMs` on any consumer (their delivery counts
 *   from `XPENDING`), then `XREADGROUP … >` for new ones;
 * - ack: `XACK` + `XDEL` in one script, resolving how many entries were removed (idempotent);
 * - pending: `XLEN` (acked entries are deleted, so this is the depth), the `XPENDING` summary, and
 *   the first entry's `t`.
 *
 * Delivery is at-least-once: an entry claimed by a consumer that dies is handed out again after
 * `minIdleMs`, so the applier must be idempotent by version (apply only a newer version per key,
 * or remember applied versions). On a cluster the whole stream lives in one slot.
 */
import {
  assertInteger,
  assertNonNegativeMs,
  assertValidKey,
  BackpressureError,
  type Clock,
  ClosedError,
  InvalidOptionError,
  jsonSerializer,
  type Serializer,
  systemClock,
} from '@dc/core';
import type { Cluster, Redis } from 'ioredis';
import { closeOwnedClient, createReadyGate, watchClient, whenReady } from './internal/clients';
import { openRedis } from './internal/topology';
import type { RedisConnection } from './options';

/** A write to queue (same shape as `@dc/strategies`' `WriteRequest`). */
export type RedisQueueWriteRequest<V> =
  | { readonly key: string; readonly op: 'set'; readonly value: V }
  | { readonly key: string; readonly op: 'delete' };

/** A queued write (same shape as `@dc/strategies`' `QueuedWrite`). */
export type RedisQueuedWrite<V> = RedisQueueWriteRequest<V> & {
  readonly version: number;
  readonly enqueuedAt: number;
  readonly deliveries: number;
};

/** Queue depth report (same shape as `@dc/strategies`' `WriteQueueStats`). */
export interface RedisQueueStats {
  readonly depth: number;
  readonly inFlight: number;
  readonly oldestEnqueuedAt: number | undefined;
}

/** A Redis Streams write queue; structurally a `@dc/strategies` `WriteQueue`. */
export interface RedisStreamQueue<V = unknown> {
  readonly name: string;
  enqueue(write: RedisQueueWriteRequest<V>): Promise<RedisQueuedWrite<V>>;
  claim(
    consumer: string,
    options: { readonly count: number; readonly minIdleMs?: number },
  ): Promise<RedisQueuedWrite<V>[]>;
  ack(versions: readonly number[]): Promise<number>;
  pending(): Promise<RedisQueueStats>;
  close(): Promise<void>;
}

/** Options for {@link createRedisStreamQueue}. */
export interface RedisStreamQueueOptions<V = unknown> {
  /** Client you own; the queue never closes it. */
  client?: Redis | Cluster;
  /** Or a connection the queue opens (and closes) itself. */
  connection?: RedisConnection;
  /** Stream key. */
  stream: string;
  /** Consumer group name. @default 'dc-write-behind' */
  group?: string;
  /** Most unacked entries; beyond it `enqueue` rejects with `E_BACKPRESSURE`. @default 100000 */
  maxLen?: number;
  /** Value codec. @default jsonSerializer */
  serializer?: Serializer<V>;
  /** Time source of `enqueuedAt`. @default systemClock */
  clock?: Clock;
}

/** Defaults for {@link RedisStreamQueueOptions}. */
export const DEFAULT_REDIS_STREAM_QUEUE_OPTIONS = Object.freeze({
  group: 'dc-write-behind',
  maxLen: 100_000,
});

const ENQUEUE = `
if redis.call('XLEN', KEYS[1]) >= tonumber(ARGV[1]) then return false end
if ARGV[3] == 'd' then
  return redis.call('XADD', KEYS[1], '0-*', 'k', ARGV[2], 'o', 'd', 't', ARGV[4])
end
return redis.call('XADD', KEYS[1], '0-*', 'k', ARGV[2], 'o', 's', 't', ARGV[4], 'v', ARGV[5])`;

const ACK = `
local acked = 0
for i = 2, #ARGV do
  redis.call('XACK', KEYS[1], ARGV[1], ARGV[i])
end
for i = 2, #ARGV do
  acked = acked + redis.call('XDEL', KEYS[1], ARGV[i])
end
return acked`;

type StreamEntry = [id: string, fields: string[]];

/**
 * Creates a {@link RedisStreamQueue}. The group is created (from the stream's start) on first use.
 * @throws InvalidOptionError for bad options.
 */
export function createRedisStreamQueue<V = unknown>(
  options: RedisStreamQueueOptions<V>,
): RedisStreamQueue<V> {
  if ((options.client === undefined) === (options.connection === undefined)) {
    throw new InvalidOptionError(
      '[dc:redis] pass exactly one of `client` and `connection` to createRedisStreamQueue',
    );
  }
  const { stream } = options;
  if (typeof stream !== 'string' || stream.length === 0) {
    throw new InvalidOptionError('[dc:redis] `stream` must be a non-empty string');
  }
  const group = options.group ?? DEFAULT_REDIS_STREAM_QUEUE_OPTIONS.group;
  const maxLen = options.maxLen ?? DEFAULT_REDIS_STREAM_QUEUE_OPTIONS.maxLen;
  assertInteger(maxLen, 'maxLen', 1, 'redis');
  const serializer = (options.serializer ?? jsonSerializer) as Serializer<V>;
  const clock = options.clock ?? systemClock;
  const owned = options.client === undefined;
  const client = (options.client ?? openRedis(options.connection as RedisConnection, 1_000)) as Redis;
  const gate = createReadyGate(client);
  const detach = watchClient(client, { onReady() {}, onError() {} });
  let closed = false;
  let groupReady: Promise<void> | undefined;

  const ensureGroup = () => {
    groupReady ??= whenReady(gate, () => client.xgroup('CREATE', stream, group, '0', 'MKSTREAM')).then(
      () => undefined,
      (error: Error) => {
        if (!String(error?.message).startsWith('BUSYGROUP')) {
          groupReady = undefined;
          throw error;
        }
      },
    );
    return groupReady;
  };
  const ensureOpen = () => {
    if (closed) throw new ClosedError('[dc:redis] write queue is closed');
  };
  const versionOf = (id: string) => Number(id.slice(id.indexOf('-') + 1));
  const decodeEntry = ([id, fields]: StreamEntry, deliveries: number): RedisQueuedWrite<V> | undefined => {
    const map = new Map<string, string>();
    for (let i = 0; i + 1 < fields.length; i += 2) map.set(fields[i] as string, fields[i + 1] as string);
    const key = map.get('k');
    const enqueuedAt = Number(map.get('t'));
    if (key === undefined) return undefined;
    const base = { key, version: versionOf(id), enqueuedAt, deliveries };
    if (map.get('o') === 'd') return { ...base, op: 'delete' };
    return { ...base, op: 'set', value: serializer.decode(map.get('v') ?? '') };
  };

  return {
    name: 'redis-stream',
    async enqueue(write) {
      ensureOpen();
      if (typeof write !== 'object' || write === null) {
        throw new InvalidOptionError('[dc:redis] a queued write must be { key, op, value? }');
      }
      assertValidKey(write.key, 'redis');
      if (write.op !== 'set' && write.op !== 'delete') {
        throw new InvalidOptionError(
          `[dc:redis] \`op\` must be 'set' or 'delete', got ${String((write as { op: unknown }).op)}`,
        );
      }
      const encoded = write.op === 'set' ? serializer.encode(write.value) : '';
      const enqueuedAt = clock.now();
      await ensureGroup();
      const id = (await client.eval(
        ENQUEUE,
        1,
        stream,
        maxLen,
        write.key,
        write.op === 'set' ? 's' : 'd',
        enqueuedAt,
        encoded,
      )) as string | null;
      if (id === null) {
        throw new BackpressureError(
          `[dc:redis] write queue ${JSON.stringify(stream)} holds maxLen (${maxLen}) unacked writes; retry later or fall back to write-through`,
        );
      }
      const base = { key: write.key, version: versionOf(id), enqueuedAt, deliveries: 0 };
      return write.op === 'set' ? { ...base, op: 'set', value: write.value } : { ...base, op: 'delete' };
    },
    async claim(consumer, claimOptions) {
      ensureOpen();
      if (typeof consumer !== 'string' || consumer.length === 0) {
        throw new InvalidOptionError('[dc:redis] `consumer` must be a non-empty string');
      }
      const { count, minIdleMs } = claimOptions ?? ({} as { count: number });
      assertInteger(count, 'count', 1, 'redis');
      if (minIdleMs !== undefined) assertNonNegativeMs(minIdleMs, 'minIdleMs', 'redis');
      await ensureGroup();
      const out: RedisQueuedWrite<V>[] = [];
      if (minIdleMs !== undefined) {
        let cursor = '0-0';
        // Bounded: each step returns up to `count` entries or advances the cursor.
        for (let step = 0; step < 1_000 && out.length < count; step++) {
          const reply = (await client.xautoclaim(
            stream,
            group,
            consumer,
            Math.floor(minIdleMs),
            cursor,
            'COUNT',
            count - out.length,
          )) as [string, StreamEntry[], string[]?];
          const [next, entries] = reply;
          const live = entries.filter((e): e is StreamEntry => Array.isArray(e) && Array.isArray(e[1]));
          if (live.length > 0) {
            const first = live[0]?.[0] as string;
            const last = live[live.length - 1]?.[0] as string;
            const details = (await client.xpending(
              stream,
              group,
              first,
              last,
              live.length,
              consumer,
            )) as Array<[string, string, number, number]>;
            const deliveries = new Map(details.map(([id, , , times]) => [id, Number(times)]));
            for (const entry of live) {
              const decoded = decodeEntry(entry, deliveries.get(entry[0]) ?? 1);
              if (decoded !== undefined) out.push(decoded);
            }
          }
          cursor = next;
          if (cursor === '0-0') break;
        }
      }
      if (out.length < count) {
        const reply = (await client.xreadgroup(
          'GROUP',
          group,
          consumer,
          'COUNT',
          count - out.length,
          'STREAMS',
          stream,
          '>',
        )) as Array<[string, StreamEntry[]]> | null;
        for (const entry of reply?.[0]?.[1] ?? []) {
          const decoded = decodeEntry(entry, 1);
          if (decoded !== undefined) out.push(decoded);
        }
      }
      return out;
    },
    async ack(versions) {
      ensureOpen();
      if (!Array.isArray(versions)) throw new InvalidOptionError('[dc:redis] `versions` must be an array');
      const ids = versions.filter((v) => Number.isSafeInteger(v) && v > 0).map((v) => `0-${v}`);
      if (ids.length === 0) return 0;
      await ensureGroup();
      return (await client.eval(ACK, 1, stream, group, ...ids)) as number;
    },
    async pending() {
      ensureOpen();
      await ensureGroup();
      const [depth, summary, first] = await Promise.all([
        client.xlen(stream),
        client.xpending(stream, group) as Promise<[number, ...unknown[]]>,
        client.xrange(stream, '-', '+', 'COUNT', 1),
      ]);
      const oldest = first[0] === undefined ? undefined : decodeEntry(first[0] as StreamEntry, 0);
      return { depth, inFlight: Number(summary[0] ?? 0), oldestEnqueuedAt: oldest?.enqueuedAt };
    },
    async close() {
      if (closed) return;
      closed = true;
      detach();
      if (owned) await closeOwnedClient(client);
    },
  };
}
