import {
  assertInteger,
  assertOneOf,
  assertTtlMs,
  type Clock,
  InvalidOptionError,
  jsonSerializer,
  type Serializer,
  systemClock,
} from '@dc/core';
import type { Cluster, ClusterNode, ClusterOptions, Redis, RedisOptions } from 'ioredis';
import type { CircuitState } from './circuit-breaker';
import { assertNamespace } from './namespace';

/**
 * A connection the store opens itself: a `redis://` / `rediss://` URL, ioredis options, or both
 * (`{ url, ...options }`, e.g. a `rediss://` URL with `tls: { ca }`).
 */
export type RedisConnection = string | (RedisOptions & { url?: string });

/** Where master-replica and Sentinel topologies send reads. */
export type ReadFrom = 'primary' | 'replica' | 'prefer-replica';

/** The allowed {@link ReadFrom} values. */
export const READ_FROM_VALUES: readonly ReadFrom[] = ['primary', 'replica', 'prefer-replica'];

/** Whether writes wait for replicas (`WAIT`). */
export type Durability = 'none' | 'replicated';

/** What happens when Redis fails or is too slow. */
export type FailMode = 'open' | 'closed';

/** Sentinel discovery of the primary (and replicas for `readFrom`). */
export interface SentinelTopologyOptions {
  /** Sentinel addresses. */
  sentinels: ReadonlyArray<{ host: string; port: number }>;
  /** The monitored master's name. @default 'mymaster' */
  name?: string;
  /** Extra ioredis options for the data connections (password, tls, …). */
  options?: RedisOptions;
}

/** A Redis Cluster the store connects to. */
export interface ClusterTopologyOptions {
  /** Startup nodes. */
  nodes: readonly ClusterNode[];
  /** Extra ioredis cluster options (merged over the fail-fast defaults). */
  options?: ClusterOptions;
}

/** One independent node of a Ketama-sharded topology. */
export interface KetamaShard {
  /** twemproxy-style server name: when set, the ring's points are derived from it instead of `host:port`. */
  name?: string;
  /** Relative weight (integer >= 1). @default 1 */
  weight?: number;
  /** The node: a connection the store opens, or a client you own. */
  connection: RedisConnection | Redis;
}

/** Events the store reports through `onEvent`. */
export type RedisStoreEvent =
  | {
      readonly type: 'store:error';
      readonly op: string;
      readonly error: unknown;
      /** The node the op went to (its breaker's name). */
      readonly node?: string;
    }
  | {
      readonly type: 'store:timeout';
      readonly op: string;
      readonly stage: 'soft' | 'hard';
      readonly elapsedMs: number;
      readonly node?: string;
    }
  | { readonly type: 'store:short-circuit'; readonly op: string; readonly node?: string }
  /** `node`: whose breaker changed (`host:port`, `sentinel:<name>`, or `*` for `clear()` across nodes). */
  | { readonly type: 'store:breaker'; readonly state: CircuitState; readonly node: string }
  | { readonly type: 'store:poisoned'; readonly key: string; readonly reason: string }
  | {
      readonly type: 'store:replication';
      readonly key: string;
      readonly replicas: number;
      readonly wanted: number;
    }
  | { readonly type: 'store:client-error'; readonly error: Error }
  | { readonly type: 'store:config-error'; readonly error: Error };

/** Options for {@link createRedisStore}. Exactly one topology option must be given. */
export interface RedisStoreOptions<V = unknown> {
  /** Standalone or cluster client you own; the store never closes it. */
  client?: Redis | Cluster;
  /** Standalone primary the store connects to (and closes) with {@link failFastRedisOptions}. */
  connection?: RedisConnection;
  /** Master-replica: replicas of `connection` to read from (see `readFrom`). */
  replicas?: readonly RedisConnection[];
  /** Master-replica discovered and failed over by Sentinel. */
  sentinel?: SentinelTopologyOptions;
  /** Redis Cluster. */
  cluster?: ClusterTopologyOptions;
  /** Client-side Ketama sharding over independent nodes. */
  shards?: readonly KetamaShard[];
  /**
   * Master-replica and Sentinel: where reads go. Replica reads can be stale by the replication
   * lag. `prefer-replica` uses the primary while no replica is connected. @default 'primary'
   */
  readFrom?: ReadFrom;
  /** Cluster: ioredis `scaleReads` (`'master'`, `'slave'`, `'all'`). @default 'master' */
  scaleReads?: 'master' | 'slave' | 'all';
  /**
   * `'replicated'`: every write is followed by `WAIT waitReplicas waitTimeoutMs` on the same
   * connection; fewer acknowledgements emit `store:replication` and, in fail-closed mode, reject.
   * @default 'none'
   */
  durability?: Durability;
  /** Replicas `WAIT` asks for. @default 1 */
  waitReplicas?: number;
  /** `WAIT` timeout (ms); added to the hard timeout of writes. @default 100 */
  waitTimeoutMs?: number;
  /** Namespace of every key (no `{`/`}`); `clear()` removes only this namespace. @default 'dc' */
  namespace?: string;
  /** Value codec; its `name` is stored in each envelope. @default jsonSerializer */
  serializer?: Serializer<V>;
  /**
   * `'open'`: failures and timeouts become misses / skipped writes (reported by `onEvent`);
   * `'closed'`: they reject with `CacheUnavailableError` (`E_STORE_UNAVAILABLE`). @default 'open'
   */
  failMode?: FailMode;
  /**
   * Soft timeout (ms): an op slower than this counts as a breaker failure, and a read in
   * fail-open mode resolves as a miss. @default 50
   */
  softTimeoutMs?: number;
  /** Hard timeout (ms): every op settles by then (fail-open: miss; fail-closed: error). @default 250 */
  hardTimeoutMs?: number;
  /** Consecutive failures that open the circuit breaker. @default 5 */
  breakerFailureThreshold?: number;
  /** How long the breaker stays open before a probe; a reconnect probes at once (ms). @default 500 */
  breakerOpenMs?: number;
  /** ioredis auto-pipelining on clients the store creates. @default false */
  autoPipelining?: boolean;
  /** Longest user key accepted (UTF-16 code units). @default 1024 */
  maxKeyLength?: number;
  /**
   * Keys of failed writes the store remembers (read as misses, deleted from Redis when it
   * answers again). Past this many, the whole namespace is read as missing until a `clear()` of it
   * succeeds, which the store runs itself. @default 10000
   */
  maxPendingInvalidations?: number;
  /** Source of time (expiry checks, timeouts, breaker). @default systemClock */
  clock?: Clock;
  /** Receives errors, timeouts, breaker changes and poisoned entries. Exceptions are swallowed. */
  onEvent?: (event: RedisStoreEvent) => void;
  /** The store's `name`. @default 'redis' */
  name?: string;
}

/** Defaults for {@link RedisStoreOptions}. */
export const DEFAULT_REDIS_STORE_OPTIONS = Object.freeze({
  readFrom: 'primary' as ReadFrom,
  scaleReads: 'master' as const,
  durability: 'none' as Durability,
  waitReplicas: 1,
  waitTimeoutMs: 100,
  namespace: 'dc',
  serializer: jsonSerializer,
  failMode: 'open' as FailMode,
  softTimeoutMs: 50,
  hardTimeoutMs: 250,
  breakerFailureThreshold: 5,
  breakerOpenMs: 500,
  autoPipelining: false,
  maxKeyLength: 1024,
  maxPendingInvalidations: 10_000,
  clock: systemClock,
  name: 'redis',
});

/** The topology option that was given. */
export type TopologyKind = 'client' | 'connection' | 'sentinel' | 'cluster' | 'shards';

/** Options after defaults and validation. */
export type ResolvedRedisStoreOptions<V> = Omit<
  Required<RedisStoreOptions<V>>,
  'client' | 'connection' | 'replicas' | 'sentinel' | 'cluster' | 'shards' | 'onEvent'
> &
  Pick<
    RedisStoreOptions<V>,
    'client' | 'connection' | 'replicas' | 'sentinel' | 'cluster' | 'shards' | 'onEvent'
  > & {
    readonly topology: TopologyKind;
  };

/**
 * Merges {@link DEFAULT_REDIS_STORE_OPTIONS} and validates every option before any I/O.
 * @throws InvalidOptionError naming the option.
 */
export function resolveRedisStoreOptions<V>(options: RedisStoreOptions<V>): ResolvedRedisStoreOptions<V> {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('[dc:redis] options must be an object');
  }
  const given = (['client', 'connection', 'sentinel', 'cluster', 'shards'] as const).filter(
    (k) => options[k] !== undefined,
  );
  if (given.length !== 1) {
    throw new InvalidOptionError(
      `[dc:redis] pass exactly one of \`client\`, \`connection\`, \`sentinel\`, \`cluster\`, \`shards\`; got ${given.length === 0 ? 'none' : given.map((k) => `\`${k}\``).join(', ')}`,
    );
  }
  const topology = given[0] as TopologyKind;
  const merged = {
    ...DEFAULT_REDIS_STORE_OPTIONS,
    ...stripUndefined(options),
  } as ResolvedRedisStoreOptions<V>;
  if (options.replicas !== undefined && topology !== 'connection') {
    throw new InvalidOptionError('[dc:redis] `replicas` only applies with `connection`');
  }
  if (
    topology === 'connection' &&
    typeof options.connection !== 'string' &&
    typeof options.connection !== 'object'
  ) {
    throw new InvalidOptionError('[dc:redis] `connection` must be a URL string or ioredis options');
  }
  if (topology === 'shards' && (!Array.isArray(options.shards) || options.shards.length === 0)) {
    throw new InvalidOptionError('[dc:redis] `shards` must be a non-empty array');
  }
  if (
    topology === 'cluster' &&
    (!Array.isArray(options.cluster?.nodes) || options.cluster.nodes.length === 0)
  ) {
    throw new InvalidOptionError('[dc:redis] `cluster.nodes` must be a non-empty array of startup nodes');
  }
  if (
    topology === 'sentinel' &&
    (!Array.isArray(options.sentinel?.sentinels) || options.sentinel.sentinels.length === 0)
  ) {
    throw new InvalidOptionError('[dc:redis] `sentinel.sentinels` must be a non-empty array');
  }
  assertOneOf(merged.readFrom, READ_FROM_VALUES, 'readFrom', 'redis');
  assertOneOf(merged.scaleReads, ['master', 'slave', 'all'], 'scaleReads', 'redis');
  assertOneOf(merged.durability, ['none', 'replicated'], 'durability', 'redis');
  assertOneOf(merged.failMode, ['open', 'closed'], 'failMode', 'redis');
  assertInteger(merged.waitReplicas, 'waitReplicas', 1, 'redis');
  assertTtlMs(merged.waitTimeoutMs, 'waitTimeoutMs', 'redis');
  assertTtlMs(merged.softTimeoutMs, 'softTimeoutMs', 'redis');
  assertTtlMs(merged.hardTimeoutMs, 'hardTimeoutMs', 'redis');
  if (merged.softTimeoutMs > merged.hardTimeoutMs) {
    throw new InvalidOptionError(
      `[dc:redis] \`softTimeoutMs\` (${merged.softTimeoutMs}) must be <= \`hardTimeoutMs\` (${merged.hardTimeoutMs})`,
    );
  }
  assertInteger(merged.breakerFailureThreshold, 'breakerFailureThreshold', 1, 'redis');
  assertTtlMs(merged.breakerOpenMs, 'breakerOpenMs', 'redis');
  assertInteger(merged.maxKeyLength, 'maxKeyLength', 1, 'redis');
  assertInteger(merged.maxPendingInvalidations, 'maxPendingInvalidations', 1, 'redis');
  assertNamespace(merged.namespace);
  const s = merged.serializer as Partial<Serializer> | undefined;
  if (typeof s?.encode !== 'function' || typeof s.decode !== 'function' || typeof s.name !== 'string') {
    throw new InvalidOptionError('[dc:redis] `serializer` must have `name`, `encode` and `decode`');
  }
  const clock = merged.clock as Partial<Clock> | undefined;
  if (typeof clock?.now !== 'function' || typeof clock.setTimer !== 'function') {
    throw new InvalidOptionError('[dc:redis] `clock` must have `now()` and `setTimer()`');
  }
  if (merged.onEvent !== undefined && typeof merged.onEvent !== 'function') {
    throw new InvalidOptionError('[dc:redis] `onEvent` must be a function');
  }
  if (typeof merged.name !== 'string' || merged.name.length === 0) {
    throw new InvalidOptionError('[dc:redis] `name` must be a non-empty string');
  }
  return { ...merged, topology };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
