import { Redis } from 'ioredis';
import { failFastRedisOptions } from '../client-options';
import type { RedisConnection, ResolvedRedisStoreOptions } from '../options';
import type { Backend, WaitPolicy } from './backend';
import { type AnyClient, closeOwnedClient } from './clients';
import { createNodeBackend } from './node-backend';

/** A backend plus every client it talks through (each gets the store's listeners). */
export interface Topology {
  readonly backend: Backend;
  readonly clients: readonly AnyClient[];
}

/** Opens a standalone connection with the fail-fast defaults under the user's options. */
export function openRedis(connection: RedisConnection, hardTimeoutMs: number, extra: object = {}): Redis {
  const base = { ...failFastRedisOptions(hardTimeoutMs), ...extra };
  return typeof connection === 'string' ? new Redis(connection, base) : new Redis({ ...base, ...connection });
}

/** Builds the backend for the one topology option that was given. */
export function createTopology<V>(options: ResolvedRedisStoreOptions<V>): Topology {
  const wait: WaitPolicy | undefined =
    options.durability === 'replicated'
      ? { replicas: options.waitReplicas, timeoutMs: options.waitTimeoutMs }
      : undefined;
  const extra = options.autoPipelining ? { enableAutoPipelining: true } : {};
  switch (options.topology) {
    case 'client': {
      const client = options.client as AnyClient;
      if (isCluster(client)) throw new Error('cluster topology arrives in the next slice');
      return {
        backend: createNodeBackend({ writer: client, wait, close: async () => {} }),
        clients: [client],
      };
    }
    case 'connection': {
      const writer = openRedis(options.connection as RedisConnection, options.hardTimeoutMs, extra);
      const replicas = (options.replicas ?? []).map((c) =>
        openRedis(c, options.hardTimeoutMs, { ...extra, readOnly: true }),
      );
      const owned: AnyClient[] = [writer, ...replicas];
      return {
        backend: createNodeBackend({
          writer,
          reader: replicas.length === 0 ? undefined : replicaPicker(writer, replicas, options.readFrom),
          wait,
          close: async () => {
            await Promise.all(owned.map((c) => closeOwnedClient(c)));
          },
        }),
        clients: owned,
      };
    }
    default:
      throw new Error(`topology ${options.topology} arrives in the next slice`);
  }
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
