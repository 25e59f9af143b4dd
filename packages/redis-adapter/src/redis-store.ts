import {
  assertValidKey,
  type CacheEntry,
  type CacheStore,
  CacheUnavailableError,
  ClosedError,
  defineStore,
  isDcError,
} from '@dc/core';
import { type CircuitState, createCircuitBreaker } from './circuit-breaker';
import { createEnvelopeCodec } from './codec';
import type { StoredWrite } from './internal/backend';
import { watchClient } from './internal/clients';
import { createOpRunner } from './internal/op-runner';
import { createTopology } from './internal/topology';
import { createKeyMapper, namespaceScanPattern } from './namespace';
import { type RedisStoreEvent, type RedisStoreOptions, resolveRedisStoreOptions } from './options';

/** Counters a {@link RedisStore} keeps since it was created. */
export interface RedisStoreStats {
  /** Reads that returned an entry. */
  hits: number;
  /** Reads that returned nothing (absent, expired, poisoned, or failed in fail-open mode). */
  misses: number;
  /** Commands that failed with an error. */
  errors: number;
  /** Ops that passed their soft timeout. */
  softTimeouts: number;
  /** Ops settled by the hard timeout. */
  hardTimeouts: number;
  /** Ops refused without a call because the breaker was open. */
  shortCircuits: number;
  /** Stored payloads that did not decode (deleted and treated as misses). */
  poisoned: number;
  /** Writes that fewer replicas than `waitReplicas` acknowledged. */
  replicationShortfalls: number;
  /** Current circuit-breaker state. */
  breaker: CircuitState;
}

/** A {@link CacheStore} over Redis with fail-fast behaviour and counters. */
export interface RedisStore<V = unknown> extends CacheStore<V> {
  /** A snapshot of the counters. */
  stats(): RedisStoreStats;
}

// Configuration problems that no retry will fix; reported once as `store:config-error`.
const CONFIG_ERROR = /^(NOPERM|NOAUTH|WRONGPASS|ERR unknown command|MISCONF)/;

/**
 * Creates a {@link CacheStore} over Redis for one topology: a client you own (`client`), a
 * standalone connection (`connection`), master-replica (`connection` + `replicas`), Sentinel
 * (`sentinel`), Redis Cluster (`cluster`), or Ketama-sharded nodes (`shards`).
 *
 * Each entry is one string holding an envelope (see `codec.ts`) written with `SET … PXAT
 * expiresAt`; a payload that does not decode is a miss, is deleted, and is counted. Every op is
 * bounded by `hardTimeoutMs`, guarded by a circuit breaker, and in fail-open mode (the default)
 * turns failures into misses instead of errors. The constructor never throws for an unreachable
 * server and never waits for it.
 *
 * @throws InvalidOptionError for bad options (before any connection is opened).
 */
export function createRedisStore<V = unknown>(options: RedisStoreOptions<V>): RedisStore<V> {
  const resolved = resolveRedisStoreOptions(options);
  const { namespace, clock, onEvent, failMode, name } = resolved;
  const codec = createEnvelopeCodec(resolved.serializer);
  const stats: RedisStoreStats = {
    hits: 0,
    misses: 0,
    errors: 0,
    softTimeouts: 0,
    hardTimeouts: 0,
    shortCircuits: 0,
    poisoned: 0,
    replicationShortfalls: 0,
    breaker: 'closed',
  };
  const emit = (event: RedisStoreEvent) => {
    if (onEvent === undefined) return;
    try {
      onEvent(event);
    } catch {
      // A listener's bug must not turn into a cache failure.
    }
  };
  const reportedConfigErrors = new Set<string>();
  const reportError = (error: unknown): boolean => {
    const message = (error as Error)?.message ?? '';
    if (!CONFIG_ERROR.test(message)) return false;
    const kind = message.split(' ')[0] as string;
    if (!reportedConfigErrors.has(kind)) {
      reportedConfigErrors.add(kind);
      emit({ type: 'store:config-error', error: error as Error });
    }
    return true;
  };

  const breaker = createCircuitBreaker({
    failureThreshold: resolved.breakerFailureThreshold,
    openMs: resolved.breakerOpenMs,
    clock,
    onStateChange: (state) => {
      stats.breaker = state;
      emit({ type: 'store:breaker', state });
    },
  });
  const runner = createOpRunner({
    failOpen: failMode === 'open',
    softTimeoutMs: resolved.softTimeoutMs,
    hardTimeoutMs: resolved.hardTimeoutMs,
    clock,
    breaker,
    scope: name,
    hooks: {
      onError(op, error) {
        stats.errors++;
        reportError(error);
        emit({ type: 'store:error', op, error });
      },
      onTimeout(op, stage, elapsedMs) {
        if (stage === 'soft') stats.softTimeouts++;
        else stats.hardTimeouts++;
        emit({ type: 'store:timeout', op, stage, elapsedMs });
      },
      onShortCircuit(op) {
        stats.shortCircuits++;
        emit({ type: 'store:short-circuit', op });
      },
    },
  });

  const { backend, clients } = createTopology(resolved);
  const detach = clients.map((client) =>
    watchClient(client, {
      onReady: () => breaker.probeNow(),
      onError: (error) => {
        if (!reportError(error)) emit({ type: 'store:client-error', error });
      },
    }),
  );

  const key = createKeyMapper(namespace);
  const writeExtraMs = resolved.durability === 'replicated' ? resolved.waitTimeoutMs : 0;
  const waitReplicas = resolved.waitReplicas;

  // `redisKey` is only needed to delete a poisoned entry; single reads pass undefined.
  const decode = (
    userKey: string,
    redisKey: string | undefined,
    payload: string | null,
    now: number = clock.now(),
  ): CacheEntry<V> | undefined => {
    if (payload === null) {
      stats.misses++;
      return undefined;
    }
    let entry: CacheEntry<V>;
    try {
      entry = codec.decode(payload);
    } catch (error) {
      stats.poisoned++;
      stats.misses++;
      emit({ type: 'store:poisoned', key: userKey, reason: (error as Error).message });
      // The entry can never be served; dropping it stops every later read paying the parse.
      runner.run('delete', 'write', 0, () => backend.unlink([redisKey ?? key(userKey)])).catch(() => {});
      return undefined;
    }
    // Redis keeps a key until now > PXAT; the contract ends it at expiresAt.
    if (now >= entry.expiresAt) {
      stats.misses++;
      return undefined;
    }
    stats.hits++;
    return entry;
  };

  const checkReplicas = (userKey: string, replicas: number): void => {
    if (replicas < 0 || replicas >= waitReplicas) return;
    stats.replicationShortfalls++;
    emit({ type: 'store:replication', key: userKey, replicas, wanted: waitReplicas });
    if (failMode === 'closed') {
      throw new CacheUnavailableError(
        `[dc:${name}] write of ${JSON.stringify(userKey)} reached the primary but only ${replicas} of ${waitReplicas} replicas acknowledged within ${resolved.waitTimeoutMs} ms (waitTimeoutMs)`,
      );
    }
  };

  const toWrite = (userKey: string, entry: CacheEntry<V>): StoredWrite => [
    key(userKey),
    codec.encode(entry),
    // PXAT takes integer ms; rounding up keeps the key at least until expiresAt.
    Math.ceil(entry.expiresAt),
  ];

  const fetchOne = (userKey: string) => backend.get(key(userKey));
  const fetchMany = (redisKeys: readonly string[]) => backend.mget(redisKeys);
  const decodeOne = (payload: string | null, userKey: string) => decode(userKey, undefined, payload);
  const readOne = (userKey: string): Promise<CacheEntry<V> | undefined> =>
    runner.read('get', userKey, fetchOne, decodeOne);
  const readMany = (userKeys: readonly string[]): Promise<Array<CacheEntry<V> | undefined>> => {
    const count = userKeys.length;
    if (count === 0) return Promise.resolve([]);
    const redisKeys = new Array<string>(count);
    for (let i = 0; i < count; i++) redisKeys[i] = key(userKeys[i] as string);
    return runner.read('getMany', redisKeys, fetchMany, (payloads) => {
      const entries = new Array<CacheEntry<V> | undefined>(count);
      if (payloads === null) {
        stats.misses += count;
        return entries.fill(undefined);
      }
      const now = clock.now();
      for (let i = 0; i < count; i++) {
        entries[i] = decode(userKeys[i] as string, redisKeys[i] as string, payloads[i] ?? null, now);
      }
      return entries;
    });
  };
  let closed = false;
  const { maxKeyLength } = resolved;

  const store = defineStore<V>(
    {
      name,
      get: readOne,
      async set(userKey, entry) {
        const write = toWrite(userKey, entry);
        const replicas = await runner.run('set', 'write', -1, () => backend.set(write), writeExtraMs);
        checkReplicas(userKey, replicas);
      },
      async delete(userKey) {
        const removed = await runner.run(
          'delete',
          'write',
          0,
          () => backend.unlink([key(userKey)]),
          writeExtraMs,
        );
        return removed > 0;
      },
      async clear() {
        await runner.run(
          'clear',
          'write',
          undefined,
          () => backend.scanUnlink(namespaceScanPattern(namespace)),
          30_000,
        );
      },
      async close() {
        closed = true;
        runner.close();
        breaker.dispose();
        for (const off of detach) off();
        await backend.close();
      },
      getMany: readMany,
      async setMany(entries) {
        if (entries.length === 0) return;
        // Encode everything first: a value that cannot be encoded rejects the batch before I/O.
        const writes = entries.map(([k, entry]) => toWrite(k, entry));
        const replicas = await runner.run('setMany', 'write', -1, () => backend.mset(writes), writeExtraMs);
        checkReplicas(entries[0]?.[0] as string, replicas);
      },
      async deleteMany(userKeys) {
        if (userKeys.length === 0) return 0;
        const redisKeys = [...new Set(userKeys)].map(key);
        return runner.run('deleteMany', 'write', 0, () => backend.unlink(redisKeys), writeExtraMs);
      },
    },
    { maxKeyLength: resolved.maxKeyLength },
  );

  // Reads skip defineStore's async wrappers (one promise and two microtask hops each, measurable
  // on pipelined GETs); they validate exactly as it does: closed first, then every key.
  store.get = (userKey) => {
    try {
      if (closed) throw new ClosedError(`[dc:${name}] store is closed`);
      assertValidKey(userKey, name, maxKeyLength);
    } catch (error) {
      return Promise.reject(error);
    }
    return readOne(userKey);
  };
  store.getMany = (userKeys) => {
    try {
      if (closed) throw new ClosedError(`[dc:${name}] store is closed`);
      for (const userKey of userKeys) assertValidKey(userKey, name, maxKeyLength);
    } catch (error) {
      return Promise.reject(error);
    }
    return readMany(userKeys);
  };
  return Object.assign(store, { stats: (): RedisStoreStats => ({ ...stats }) });
}

/** True when `error` is the store's typed unavailability error. */
export function isCacheUnavailable(error: unknown): error is CacheUnavailableError {
  return isDcError(error, 'E_STORE_UNAVAILABLE');
}
