import type { KetamaRing } from '@dc/hashing';
import type { Backend, StoredWrite } from './backend';

/**
 * Client-side Ketama sharding: each key lives on the node `ring.getNode(redisKey)` names, and
 * every node is an independent {@link Backend}. Batches are split per node and run in parallel;
 * `clear()` scans every node.
 */
export function createKetamaBackend(config: {
  ring: KetamaRing;
  nodes: ReadonlyMap<string, Backend>;
  close: () => Promise<void>;
}): Backend {
  const { ring, nodes } = config;
  const nodeOf = (key: string): Backend => nodes.get(ring.getNode(key)) as Backend;
  // With one node every key maps to it; the store can skip the ring per op.
  const onlyNode = nodes.size === 1 ? ([...nodes.keys()][0] as string) : undefined;
  const split = <T>(items: readonly T[], keyOf: (item: T) => string): Map<Backend, Array<[T, number]>> => {
    const groups = new Map<Backend, Array<[T, number]>>();
    items.forEach((item, i) => {
      const node = nodeOf(keyOf(item));
      const group = groups.get(node);
      if (group === undefined) groups.set(node, [[item, i]]);
      else group.push([item, i]);
    });
    return groups;
  };
  const minReplicas = (values: number[]) => (values.length === 0 ? -1 : Math.min(...values));

  return {
    nodeOf: (key) => ring.getNode(key),
    onlyNode,
    get: (key) => nodeOf(key).get(key),
    async mget(keys) {
      const out: Array<string | null> = new Array(keys.length).fill(null);
      await Promise.all(
        [...split(keys, (k) => k)].map(async ([node, group]) => {
          const values = await node.mget(group.map(([k]) => k));
          group.forEach(([, i], j) => {
            out[i] = values[j] ?? null;
          });
        }),
      );
      return out;
    },
    set: (write) => nodeOf(write[0]).set(write),
    async mset(writes: readonly StoredWrite[]) {
      return minReplicas(
        await Promise.all(
          [...split(writes, ([k]) => k)].map(([node, group]) => node.mset(group.map(([w]) => w))),
        ),
      );
    },
    async unlink(keys) {
      const counts = await Promise.all(
        [...split(keys, (k) => k)].map(([node, group]) => node.unlink(group.map(([k]) => k))),
      );
      return counts.reduce((a, b) => a + b, 0);
    },
    async scanUnlink(pattern) {
      await Promise.all([...nodes.values()].map((node) => node.scanUnlink(pattern)));
    },
    close: config.close,
  };
}
