import type { Redis } from 'ioredis';
/** One stored write: Redis key, encoded envelope, absolute expiry (epoch ms, integer). */
export type StoredWrite = readonly [key: string, payload: string, pxat: number];

/**
 * What a topology provides to the store. Keys are already namespaced; every method may reject
 * with the client's error (the store's runner applies timeouts, breaker and fail mode).
 */
export interface Backend {
  /**
   * The node that serves `key` (an address, or the backend's one name): the store keeps one
   * circuit breaker per node, so a dead node refuses only its own keys.
   */
  nodeOf(key: string): string;
  /** Set when every key lives on one node: one breaker, batches are never split. */
  readonly onlyNode: string | undefined;
  get(key: string): Promise<string | null>;
  /** Values in key order. */
  mget(keys: readonly string[]): Promise<Array<string | null>>;
  /** Resolves the number of replicas that acknowledged when `durability` asks for it, else -1. */
  set(write: StoredWrite): Promise<number>;
  mset(writes: readonly StoredWrite[]): Promise<number>;
  /** Resolves how many of `keys` existed. */
  unlink(keys: readonly string[]): Promise<number>;
  /** Removes every key matching `pattern` on every primary. */
  scanUnlink(pattern: string): Promise<void>;
  /** Releases what the backend created (a client passed in stays open). */
  close(): Promise<void>;
}

/** `WAIT numreplicas timeout` issued after writes on the same connection. */
export interface WaitPolicy {
  readonly replicas: number;
  readonly timeoutMs: number;
}

/** Bounds `SCAN` loops: at most this many cursor steps per node. */
export const MAX_SCAN_STEPS = 1_000_000;
/** Keys per `SCAN` step and per `UNLINK` during `clear()`. */
export const SCAN_COUNT = 1_000;

/**
 * Redis checks `WAIT` timeouts on its event-loop ticks (`hz`, 100 ms by default), so a `WAIT 1 100`
 * can take 200 ms. The adapter stops waiting this long after `timeoutMs` and counts the write as
 * unconfirmed (0 replicas); a late reply is ignored.
 */
export const WAIT_GRACE_MS = 25;

/** `replies` (the replica count), or 0 once `timeoutMs + WAIT_GRACE_MS` has passed. */
export function boundedWait(replies: Promise<number>, timeoutMs: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => resolve(0), timeoutMs + WAIT_GRACE_MS);
    timer.unref?.();
    replies.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/**
 * Sends `WAIT` right behind an already-sent write on the same connection. `result` resolves the
 * write's reply and the replica count, but only once the write itself has been answered: Redis
 * blocks a connection for the length of a WAIT, so with no replica to answer, a later write can
 * sit behind earlier WAITs. The WAIT's own bound ({@link boundedWait}) starts when the write is
 * acknowledged, and a write still unanswered is left to the operation's hard timeout — never
 * reported as "on the primary with 0 replicas" (found by the S1 fault test). `busyUntil` settles
 * when Redis releases the connection (the WAIT's reply).
 */
export function sendWithWait<T>(
  written: Promise<T>,
  client: Pick<Redis, 'wait'>,
  policy: WaitPolicy,
): { result: Promise<readonly [reply: T, replicas: number]>; busyUntil: Promise<unknown> } {
  const confirmed = client.wait(policy.replicas, policy.timeoutMs);
  // Settled by boundedWait, or abandoned with a failed write: never an unhandled rejection.
  confirmed.catch(() => undefined);
  const result = written.then(
    async (reply) => [reply, await boundedWait(confirmed, policy.timeoutMs)] as const,
  );
  return { result, busyUntil: confirmed };
}

/** {@link sendWithWait} for a caller that only needs the replica count. */
export async function writeThenWait(
  written: Promise<unknown>,
  client: Pick<Redis, 'wait'>,
  policy: WaitPolicy,
): Promise<number> {
  const [, replicas] = await sendWithWait(written, client, policy).result;
  return replicas;
}

/** Runs a pipeline; rejects with the first command error, else resolves every reply in order. */
export async function execPipeline(pipeline: ReturnType<Redis['pipeline']>): Promise<unknown[]> {
  const results = (await pipeline.exec()) ?? [];
  return results.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}
