import type { ClusterOptions, RedisOptions } from 'ioredis';

/** Upper bound of the reconnect backoff (ms), before jitter. */
export const MAX_RECONNECT_DELAY_MS = 500;
/** Largest random delay added to each reconnect attempt (ms). */
export const RECONNECT_JITTER_MS = 50;

/**
 * Reconnect backoff: `min(50 · 2^attempt, 500) + jitter(0–50)` ms. Capped so a client notices
 * a returning Redis within about half a second (ioredis' default took 2.2 s; FAULTS B5).
 */
export function reconnectDelayMs(attempt: number, random: () => number = Math.random): number {
  return (
    Math.min(50 * 2 ** Math.max(0, attempt), MAX_RECONNECT_DELAY_MS) +
    Math.floor(random() * RECONNECT_JITTER_MS)
  );
}

/** Reconnect (and resend) when a failover demoted the node we write to. */
export function reconnectOnReadonly(error: Error): 2 | false {
  return error.message.startsWith('READONLY') ? 2 : false;
}

/**
 * The ioredis options every client the adapter creates starts from, so no caller is ever parked
 * (FAULTS "client settings"):
 * - `enableOfflineQueue: false`: while disconnected, commands fail at once (B6: 21 ms) instead of
 *   queueing for the whole outage (B5: 7.2 s);
 * - `maxRetriesPerRequest: 0`: a command in flight when the connection drops fails instead of
 *   being replayed later;
 * - `retryStrategy`: {@link reconnectDelayMs};
 * - `commandTimeout`: a backstop at twice the hard timeout (the adapter's own timeouts settle
 *   callers first; this frees ioredis' bookkeeping on a frozen server, B8/B9);
 * - `connectTimeout` and `disconnectTimeout` short, so a black-holed host neither hangs connect
 *   nor keeps a socket handle alive after `close()`;
 * - `reconnectOnError` on `READONLY` (a demoted primary after failover).
 */
export function failFastRedisOptions(hardTimeoutMs = 250): RedisOptions {
  return {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (times: number) => reconnectDelayMs(times),
    commandTimeout: Math.max(100, hardTimeoutMs * 2),
    connectTimeout: Math.max(1_000, hardTimeoutMs * 4),
    disconnectTimeout: 100,
    reconnectOnError: reconnectOnReadonly,
    autoResendUnfulfilledCommands: false,
  };
}

/**
 * Cluster-level fail-fast options (FAULTS B2): redirections and failover retries are bounded,
 * the cluster's own offline queue is off, and node connections get the timeouts of
 * {@link failFastRedisOptions} (the cluster owns their offline queue and reconnects).
 */
export function failFastClusterOptions(hardTimeoutMs = 250): ClusterOptions {
  const node = failFastRedisOptions(hardTimeoutMs);
  return {
    enableOfflineQueue: false,
    enableReadyCheck: true,
    maxRedirections: 32,
    retryDelayOnFailover: 300,
    retryDelayOnClusterDown: 300,
    retryDelayOnTryAgain: 100,
    slotsRefreshTimeout: Math.max(1_000, hardTimeoutMs * 4),
    clusterRetryStrategy: (times: number) => reconnectDelayMs(times),
    redisOptions: {
      maxRetriesPerRequest: node.maxRetriesPerRequest,
      commandTimeout: node.commandTimeout,
      connectTimeout: node.connectTimeout,
      disconnectTimeout: node.disconnectTimeout,
      reconnectOnError: reconnectOnReadonly,
      autoResendUnfulfilledCommands: false,
    },
  };
}
