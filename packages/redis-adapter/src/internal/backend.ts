/** One stored write: Redis key, encoded envelope, absolute expiry (epoch ms, integer). */
export type StoredWrite = readonly [key: string, payload: string, pxat: number];

/**
 * What a topology provides to the store. Keys are already namespaced; every method may reject
 * with the client's error (the store's runner applies timeouts, breaker and fail mode).
 */
export interface Backend {
  get(key: string): Promise<Buffer | null>;
  /** Values in key order. */
  mget(keys: readonly string[]): Promise<Array<Buffer | null>>;
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
