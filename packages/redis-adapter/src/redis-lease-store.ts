/**
 * Leases (Nishtala et al., "Scaling Memcache at Facebook", NSDI 2013, §3.2.1) on Redis. Each key
 * is one hash: `v` (the entry's envelope), `s`/`e` (its `staleAt`/`expiresAt`), `t`/`te` (the
 * outstanding lease token and when it lapses). Every operation is one Lua script, so a read that
 * grants a lease, a `fill` that checks it, and a `set`/`delete` that voids it are atomic:
 *
 * - get: fresh entry → hit; else a live lease → wait (with the stale entry); else grant a lease;
 * - fill: writes only if `t` is still the caller's token and has not lapsed, then consumes it;
 * - set / delete: replace / remove the hash, which voids any outstanding token.
 *
 * Timestamps are the clients' clocks (the same clock that built the entries); keep client clocks
 * in sync (NTP) or lease lapses shift by the skew. Implements `LeaseStore` from `@dc/stampede`
 * structurally.
 */
import { randomUUID } from 'node:crypto';
import {
  assertTtlMs,
  assertValidEntry,
  assertValidKey,
  type CacheEntry,
  type Clock,
  ClosedError,
  jsonSerializer,
  type Serializer,
  systemClock,
} from '@dc/core';
import type { Cluster, Redis } from 'ioredis';
import { createEnvelopeCodec } from './codec';
import { bounded } from './internal/bounded';
import { watchClient } from './internal/clients';
import { assertNamespace, namespacedKey } from './namespace';
import { assertToken, type RedisLockToken } from './redis-lock';

/** The right to fill one key once (same shape as `@dc/stampede`'s `LeaseToken`). */
export type RedisLeaseToken = RedisLockToken;

/** Result of {@link RedisLeaseStore.get} (same shape as `@dc/stampede`'s `LeaseRead`). */
export type RedisLeaseRead<V> =
  | { readonly status: 'hit'; readonly entry: CacheEntry<V> }
  | { readonly status: 'lease'; readonly token: RedisLeaseToken; readonly stale: CacheEntry<V> | undefined }
  | { readonly status: 'wait'; readonly stale: CacheEntry<V> | undefined };

/** A Redis lease store; structurally a `@dc/stampede` `LeaseStore`. */
export interface RedisLeaseStore<V = unknown> {
  get(key: string, options?: { readonly leaseTtlMs?: number | undefined }): Promise<RedisLeaseRead<V>>;
  fill(token: RedisLeaseToken, entry: CacheEntry<V>): Promise<boolean>;
  release(token: RedisLeaseToken): Promise<boolean>;
  set(key: string, entry: CacheEntry<V>): Promise<void>;
  delete(key: string): Promise<boolean>;
  close(): Promise<void>;
}

/** Options for {@link createRedisLeaseStore}. */
export interface RedisLeaseStoreOptions<V = unknown> {
  /** Client you own (standalone, Sentinel or cluster); never closed by the store. */
  client: Redis | Cluster;
  /** Namespace of keys (no `{`/`}`). @default 'dc-lease' */
  namespace?: string;
  /** Default lease lifetime (ms). @default 10000 */
  leaseTtlMs?: number;
  /** Value codec. @default jsonSerializer */
  serializer?: Serializer<V>;
  /** Clock used for `now` in every script. @default systemClock */
  clock?: Clock;
  /** Bound on each Redis round trip (ms); past it the call rejects with `E_STORE_UNAVAILABLE`. @default 1000 */
  timeoutMs?: number;
}

/** Defaults for {@link RedisLeaseStoreOptions}. */
export const DEFAULT_REDIS_LEASE_STORE_OPTIONS = Object.freeze({
  namespace: 'dc-lease',
  leaseTtlMs: 10_000,
  timeoutMs: 1_000,
});

const GET = `
local k = KEYS[1]
local now = tonumber(ARGV[1])
local f = redis.call('HMGET', k, 'v', 's', 'e', 't', 'te')
local v, s, e, t, te = f[1], tonumber(f[2]), tonumber(f[3]), f[4], tonumber(f[5])
if v and (not e or now >= e) then redis.call('HDEL', k, 'v', 's', 'e'); v = false end
if v and s and now < s then return {'hit', v} end
if t and te and now < te then return {'wait', v} end
local untilMs = now + tonumber(ARGV[2])
redis.call('HSET', k, 't', ARGV[3], 'te', untilMs)
local keep = untilMs
if v and e > keep then keep = e end
redis.call('PEXPIREAT', k, math.ceil(keep))
return {'lease', v}`;

const FILL = `
local k = KEYS[1]
local f = redis.call('HMGET', k, 't', 'te')
if f[1] ~= ARGV[1] or not f[2] or tonumber(f[2]) <= tonumber(ARGV[2]) then return 0 end
redis.call('HDEL', k, 't', 'te')
redis.call('HSET', k, 'v', ARGV[3], 's', ARGV[4], 'e', ARGV[5])
redis.call('PEXPIREAT', k, ARGV[6])
return 1`;

const RELEASE = `
if redis.call('HGET', KEYS[1], 't') == ARGV[1] then
  redis.call('HDEL', KEYS[1], 't', 'te')
  return 1
end
return 0`;

const SET = `
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'v', ARGV[1], 's', ARGV[2], 'e', ARGV[3])
redis.call('PEXPIREAT', KEYS[1], ARGV[4])
return 1`;

const DELETE = `
local e = tonumber(redis.call('HGET', KEYS[1], 'e'))
local had = redis.call('HEXISTS', KEYS[1], 'v') == 1 and e ~= nil and e > tonumber(ARGV[1])
redis.call('DEL', KEYS[1])
if had then return 1 end
return 0`;

/**
 * Creates a {@link RedisLeaseStore}.
 * @throws InvalidOptionError for bad options.
 */
export function createRedisLeaseStore<V = unknown>(options: RedisLeaseStoreOptions<V>): RedisLeaseStore<V> {
  const { client } = options;
  const namespace = options.namespace ?? DEFAULT_REDIS_LEASE_STORE_OPTIONS.namespace;
  const defaultLeaseTtlMs = options.leaseTtlMs ?? DEFAULT_REDIS_LEASE_STORE_OPTIONS.leaseTtlMs;
  const timeoutMs = options.timeoutMs ?? DEFAULT_REDIS_LEASE_STORE_OPTIONS.timeoutMs;
  const clock = options.clock ?? systemClock;
  assertNamespace(namespace);
  assertTtlMs(defaultLeaseTtlMs, 'leaseTtlMs', 'redis');
  assertTtlMs(timeoutMs, 'timeoutMs', 'redis');
  const codec = createEnvelopeCodec<V>((options.serializer ?? jsonSerializer) as Serializer<V>);
  const detach = watchClient(client, { onReady() {}, onError() {} });
  let closed = false;

  const ensureOpen = () => {
    if (closed) throw new ClosedError('[dc:redis] lease store is closed');
  };
  const run = <T>(script: string, key: string, args: Array<string | number>, what: string) =>
    bounded(client.eval(script, 1, namespacedKey(namespace, key), ...args) as Promise<T>, timeoutMs, what);
  const decode = (payload: string | null | undefined): CacheEntry<V> | undefined | 'poisoned' => {
    if (payload === null || payload === undefined) return undefined;
    try {
      const entry = codec.decode(payload);
      return clock.now() >= entry.expiresAt ? undefined : entry;
    } catch {
      return 'poisoned';
    }
  };

  const read = async (key: string, leaseTtlMs: number, retried: boolean): Promise<RedisLeaseRead<V>> => {
    const id = randomUUID();
    const [status, payload] = await run<[string, string | null]>(
      GET,
      key,
      [clock.now(), leaseTtlMs, id],
      'lease get',
    );
    const entry = decode(payload);
    if (entry === 'poisoned') {
      // An undecodable entry is dropped (voiding its lease) and the read starts over, once.
      await run(DELETE, key, [clock.now()], 'lease delete');
      if (!retried) return read(key, leaseTtlMs, true);
      return { status: 'wait', stale: undefined };
    }
    if (status === 'hit' && entry !== undefined) return { status: 'hit', entry };
    if (status === 'lease') return { status: 'lease', token: { key, id }, stale: entry };
    return { status: 'wait', stale: entry };
  };

  return {
    async get(key, getOptions) {
      ensureOpen();
      assertValidKey(key, 'redis');
      const leaseTtlMs = getOptions?.leaseTtlMs ?? defaultLeaseTtlMs;
      assertTtlMs(leaseTtlMs, 'leaseTtlMs', 'redis');
      return read(key, leaseTtlMs, false);
    },
    async fill(token, entry) {
      ensureOpen();
      assertToken(token, 'lease');
      assertValidEntry(entry, 'redis');
      const payload = codec.encode(entry);
      const written = await run<number>(
        FILL,
        token.key,
        [token.id, clock.now(), payload, entry.staleAt, entry.expiresAt, Math.ceil(entry.expiresAt)],
        'lease fill',
      );
      return written === 1;
    },
    async release(token) {
      ensureOpen();
      assertToken(token, 'lease');
      return (await run<number>(RELEASE, token.key, [token.id], 'lease release')) === 1;
    },
    async set(key, entry) {
      ensureOpen();
      assertValidKey(key, 'redis');
      assertValidEntry(entry, 'redis');
      const payload = codec.encode(entry);
      await run(SET, key, [payload, entry.staleAt, entry.expiresAt, Math.ceil(entry.expiresAt)], 'lease set');
    },
    async delete(key) {
      ensureOpen();
      assertValidKey(key, 'redis');
      return (await run<number>(DELETE, key, [clock.now()], 'lease delete')) === 1;
    },
    async close() {
      if (closed) return;
      closed = true;
      detach();
    },
  };
}
