import { createKetamaRing } from '@dc/hashing';
import { Cluster, Redis } from 'ioredis';
import { failFastClusterOptions, failFastRedisOptions, reconnectDelayMs } from '../client-options';
import type { KetamaShard, RedisConnection, ResolvedRedisStoreOptions } from '../options';
import type { Backend, WaitPolicy } from './backend';
import { type AnyClient, closeOwnedClient, keepConnected } from './clients';
import { createClusterBackend } from './cluster-backend';
import { createKetamaBackend } from './ketama-backend';
import { createNodeBackend } from './node-backend';

/** A backend plus every client it talks through (each gets the store's listeners). */
export interface Topology {
  readonly backend: Backend;
  readonly clients: readonly AnyClient[];
  /** The node a client serves, whose breaker probes when it reconnects; undefined: every node's. */
  readonly nodeOfClient: (client: AnyClient) => string | undefined;
}

const EVERY_NODE = (): undefined => undefined;

/** `host:port` of a standalone client, or `sentinel:<name>` for one that follows a Sentinel master. */
export function nodeName(client: Redis): string {
  // A duck-typed client (a test double, a wrapper) may have no `options`.
  const { host, port, sentinels, name } = client.options ?? {};
  if (Array.isArray(sentinels) && sentinels.length > 0) return `sentinel:${name ?? 'mymaster'}`;
  return `${host ?? '127.0.0.1'}:${port ?? 6379}`;
}

/** Opens a standalone connection with the fail-fast defaults under the user's options. */
export function openRedis(connection: RedisConnection, hardTimeoutMs: number, extra: object = {}): Redis {
  const base = { ...failFastRedisOptions(hardTimeoutMs), ...extra };
  if (typeof connection === 'string') return keepConnected(new Redis(connection, base));
  const { url, ...options } = connection;
  return keepConnected(
    url === undefined ? new Redis({ ...base, ...options }) : new Redis(url, { ...base, ...options }),
  );
}

/**
 * Extra connections for `durability: 'replicated'` writes (see `createDurableLanes`): each WAIT
 * blocks its connection in Redis, so durable writes run on these instead of the connection reads
 * use. Four lets four durable writes wait for replicas at once.
 */
export const DURABLE_WRITE_CONNECTIONS = 4;

/** Builds the backend for the one topology option that was given. */
export function createTopology<V>(options: ResolvedRedisStoreOptions<V>): Topology {
  const wait: WaitPolicy | undefined =
    options.durability === 'replicated'
      ? { replicas: options.waitReplicas, timeoutMs: options.waitTimeoutMs }
      : undefined;
  // Duplicates follow the same node (or Sentinel master) with the same options; the store owns them.
  const durableWriters = (writer: Redis): Redis[] =>
    wait === undefined
      ? []
      : Array.from({ length: DURABLE_WRITE_CONNECTIONS }, () => keepConnected(writer.duplicate()));
  const extra = options.autoPipelining ? { enableAutoPipelining: true } : {};
  switch (options.topology) {
    case 'client': {
      const client = options.client as AnyClient;
      if (isCluster(client)) {
        return {
          backend: createClusterBackend({
            cluster: client,
            readFromReplicas: options.scaleReads !== 'master',
            wait,
            close: async () => {},
          }),
          clients: [client],
          nodeOfClient: EVERY_NODE,
        };
      }
      const lanes = durableWriters(client);
      return {
        backend: createNodeBackend({
          node: nodeName(client),
          writer: client,
          wait,
          durableWriters: lanes,
          coalesceReads: options.autoPipelining,
          close: async () => {
            await Promise.all(lanes.map((c) => closeOwnedClient(c)));
          },
        }),
        clients: [client, ...lanes],
        nodeOfClient: EVERY_NODE,
      };
    }
    case 'connection': {
      const writer = openRedis(options.connection as RedisConnection, options.hardTimeoutMs, extra);
      const replicas = (options.replicas ?? []).map((c) =>
        openRedis(c, options.hardTimeoutMs, { ...extra, readOnly: true }),
      );
      const lanes = durableWriters(writer);
      const owned: AnyClient[] = [writer, ...replicas, ...lanes];
      return {
        backend: createNodeBackend({
          node: nodeName(writer),
          writer,
          reader: replicas.length === 0 ? undefined : replicaPicker(writer, replicas, options.readFrom),
          wait,
          durableWriters: lanes,
          coalesceReads: options.autoPipelining,
          close: async () => {
            await Promise.all(owned.map((c) => closeOwnedClient(c)));
          },
        }),
        clients: owned,
        nodeOfClient: EVERY_NODE,
      };
    }
    case 'sentinel': {
      const {
        sentinels,
        name = 'mymaster',
        options: extraOptions = {},
      } = options.sentinel ?? { sentinels: [] };
      const open = (role: 'master' | 'slave') =>
        keepConnected(
          new Redis({
            ...failFastRedisOptions(options.hardTimeoutMs),
            ...extra,
            sentinelRetryStrategy: (times: number) => reconnectDelayMs(times),
            // Reconnect as soon as Sentinel announces `+switch-master`, not when the old primary is
            // finally demoted (~11 s later, during which it still acknowledges writes that its
            // resync then drops; FAULTS S2). Narrows that window to about 1 s; it cannot close it.
            failoverDetector: true,
            ...extraOptions,
            sentinels: sentinels.map((s) => ({ host: s.host, port: s.port })),
            name,
            role,
          }),
        );
      const writer = open('master');
      const replicas = options.readFrom === 'primary' ? [] : [open('slave')];
      const lanes = durableWriters(writer);
      const owned: AnyClient[] = [writer, ...replicas, ...lanes];
      return {
        backend: createNodeBackend({
          node: `sentinel:${name}`,
          writer,
          reader: replicaPicker(writer, replicas, options.readFrom),
          wait,
          durableWriters: lanes,
          coalesceReads: options.autoPipelining,
          close: async () => {
            await Promise.all(owned.map((c) => closeOwnedClient(c)));
          },
        }),
        clients: owned,
        nodeOfClient: EVERY_NODE,
      };
    }
    case 'cluster': {
      const { nodes, options: extraOptions = {} } = options.cluster ?? { nodes: [] };
      const defaults = failFastClusterOptions(options.hardTimeoutMs);
      const cluster = new Cluster([...nodes], {
        ...defaults,
        scaleReads: options.scaleReads,
        enableAutoPipelining: options.autoPipelining,
        ...extraOptions,
        redisOptions: { ...defaults.redisOptions, ...extraOptions.redisOptions },
      });
      return {
        backend: createClusterBackend({
          cluster,
          readFromReplicas: options.scaleReads !== 'master',
          wait,
          close: () => closeOwnedClient(cluster),
        }),
        clients: [cluster],
        nodeOfClient: EVERY_NODE,
      };
    }
    case 'shards': {
      const shards = options.shards as readonly KetamaShard[];
      const owned: AnyClient[] = [];
      const clients: AnyClient[] = [];
      const nodes = new Map<string, Backend>();
      const addressOf = new Map<AnyClient, string>();
      const servers = shards.map((shard) => {
        const connection = shard.connection;
        const borrowed = connection instanceof Redis || isRedisLike(connection);
        const client = borrowed
          ? (connection as Redis)
          : openRedis(connection as RedisConnection, options.hardTimeoutMs, extra);
        if (!borrowed) owned.push(client);
        clients.push(client);
        const address = `${client.options.host ?? '127.0.0.1'}:${client.options.port ?? 6379}`;
        addressOf.set(client, address);
        nodes.set(
          address,
          createNodeBackend({
            node: address,
            writer: client,
            wait,
            coalesceReads: options.autoPipelining,
            close: async () => {},
          }),
        );
        return shard.name === undefined
          ? { address, weight: shard.weight ?? 1 }
          : { address, weight: shard.weight ?? 1, name: shard.name };
      });
      return {
        backend: createKetamaBackend({
          ring: createKetamaRing(servers),
          nodes,
          close: async () => {
            await Promise.all(owned.map((c) => closeOwnedClient(c)));
          },
        }),
        clients,
        nodeOfClient: (client) => addressOf.get(client),
      };
    }
  }
}

function isRedisLike(value: unknown): boolean {
  return typeof value === 'object' && value !== null && typeof (value as Redis).getBuffer === 'function';
}

/** True for an ioredis `Cluster` (duck-typed so two ioredis copies still work). */
export function isCluster(client: AnyClient): client is import('ioredis').Cluster {
  return (client as { isCluster?: boolean }).isCluster === true;
}

/** Round-robin over ready replicas; `prefer-replica` falls back to the primary when none is ready. */
export function replicaPicker(
  primary: Redis,
  replicas: readonly Redis[],
  readFrom: 'primary' | 'replica' | 'prefer-replica',
): (() => Redis) | undefined {
  if (readFrom === 'primary' || replicas.length === 0) return undefined;
  let next = 0;
  return () => {
    for (let i = 0; i < replicas.length; i++) {
      const candidate = replicas[(next + i) % replicas.length] as Redis;
      if (candidate.status === 'ready') {
        next = (next + i + 1) % replicas.length;
        return candidate;
      }
    }
    return readFrom === 'prefer-replica' ? primary : (replicas[next % replicas.length] as Redis);
  };
}
