import type { RedisNode } from './redis-node';
import { waitFor } from './wait-for';

/** A replication role as `INFO replication` reports it. */
export type RedisRole = 'master' | 'slave';

/** The node's current role from `INFO replication`. */
export async function roleOf(node: RedisNode): Promise<RedisRole> {
  const role = (await node.info('replication')).role;
  if (role !== 'master' && role !== 'slave') {
    throw new Error(
      `[dc:testkit] node on port ${node.port} reported an unknown role ${JSON.stringify(role)}`,
    );
  }
  return role;
}

/**
 * Waits until `node` has `role`; for `'slave'` also until its link to the master is up
 * (`master_link_status:up`), so the replica has finished its initial sync.
 * @throws Error after `timeoutMs`.
 */
export async function waitForRole(node: RedisNode, role: RedisRole, timeoutMs = 15_000): Promise<void> {
  await waitFor(
    async () => {
      const info = await node.info('replication');
      return info.role === role && (role === 'master' || info.master_link_status === 'up');
    },
    {
      timeoutMs,
      what: `node on port ${node.port} to become ${role === 'slave' ? 'a synced replica' : 'master'}`,
    },
  );
}
