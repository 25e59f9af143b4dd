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
 * `master_link_status:up`.
 */
export async function startReplicaSet(options: StartReplicaSetOptions = {}): Promise<ReplicaSetHandle> {
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
