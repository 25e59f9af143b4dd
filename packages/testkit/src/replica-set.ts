import { type RedisNode, startRedis } from './redis-node';
import { waitForRole } from './roles';

/** Options for {@link startReplicaSet}. */
export interface StartReplicaSetOptions {
  /** Extra `redis-server` arguments for both nodes. */
  args?: string[];
  /** `requirepass` + `masterauth` on both nodes. */
  password?: string;
  /** How long to wait for the replica's initial sync (ms). @default 15000 */
  syncTimeoutMs?: number;
}

/** A primary and one replica replicating from it. */
export interface ReplicaSetHandle {
  /** The node started as primary (its role can change if a test promotes the replica). */
  readonly primary: RedisNode;
  /** The node started with `--replicaof` the primary. */
  readonly replica: RedisNode;
  /** Stops both nodes and removes their dirs. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts a primary and a replica (`--replicaof`) and resolves once the replica reports
 * `master_link_status:up` and has confirmed a replicated write (`WAIT 1`), so a write made
 * after this resolves is streamed to the replica at once.
 */
export async function startReplicaSet(options: StartReplicaSetOptions = {}): Promise<ReplicaSetHandle> {
  const set = await startReplicaPair(options);
  try {
    await waitForStreaming(set.primary, options.syncTimeoutMs ?? 15_000);
  } catch (error) {
    await set.stop();
    throw error;
  }
  return set;
}

/** @internal {@link startReplicaSet} without the final streaming check, for callers that overlap it with other waits. */
export async function startReplicaPair(options: StartReplicaSetOptions = {}): Promise<ReplicaSetHandle> {
  const { args = [], password, syncTimeoutMs = 15_000 } = options;
  const primary = await startRedis({ args, password });
  let replica: RedisNode | undefined;
  try {
    replica = await startRedis({
      args: ['--replicaof', '127.0.0.1', String(primary.port), ...args],
      password,
    });
    await waitForRole(replica, 'slave', syncTimeoutMs);
  } catch (error) {
    await Promise.all([primary.stop(), replica?.stop()]);
    throw error;
  }
  return handle(primary, replica);
}

/**
 * After a diskless sync the primary streams new writes to the replica only once it has seen a
 * REPLCONF ACK in the online state (up to ~1 s after the replica reports its link up). A write
 * acknowledged in that window would be lost by a primary crash, so wait until a replicated
 * no-op (PUBLISH is propagated to replicas outside cluster mode) is confirmed by WAIT.
 * @internal
 */
export async function waitForStreaming(primary: RedisNode, timeoutMs: number): Promise<void> {
  const [, acked] = await primary.pipeline(
    [
      ['PUBLISH', '__dc:testkit:sync', '1'],
      ['WAIT', '1', String(timeoutMs)],
    ],
    { timeoutMs: timeoutMs + 1_000 },
  );
  if (acked !== 1) {
    throw new Error(
      `[dc:testkit] the replica of port ${primary.port} did not confirm a write within ${timeoutMs} ms`,
    );
  }
}

function handle(primary: RedisNode, replica: RedisNode): ReplicaSetHandle {
  let stopping: Promise<void> | undefined;
  return {
    primary,
    replica,
    stop() {
      stopping ??= Promise.all([primary.stop(), replica.stop()]).then(() => undefined);
      return stopping;
    },
  };
}
