import { keySlot } from '@dc/hashing';
import type { Cluster, Redis } from 'ioredis';
import { reconnectDelayMs } from '../client-options';
import { guardReplyDepth } from '../reply-depth-guard';
import {
  type Backend,
  boundedWait,
  execPipeline,
  MAX_SCAN_STEPS,
  SCAN_COUNT,
  type StoredWrite,
  sendWithWait,
  type WaitPolicy,
} from './backend';
import { closeOwnedClient, createReadyGate, whenReady } from './clients';
import { createDurableLanes, type DurableLanes } from './durable-lanes';

/** Connections per primary for `durability: 'replicated'` writes (see durable-lanes.ts). */
export const CLUSTER_DURABLE_LANES_PER_NODE = 2;

interface NodeBatch<T> {
  /** The slot table's `host:port` of the node (`''` before the first slot refresh). */
  readonly address: string;
  readonly node: Redis | undefined;
  /** Same-slot groups, each sent as one multi-key command (or one command per key). */
  readonly groups: Map<number, T[]>;
}

/**
 * Redis Cluster through ioredis. Single-key commands go through the cluster client (it follows
 * MOVED/ASK). Batches are grouped by the exact slot (`@dc/hashing`'s `keySlot`, which, unlike
 * ioredis' `cluster-key-slot`, hashes `foo{}{bar}` as Redis does), then sent as one pipeline per
 * node straight to the node that serves the slot, so nothing can hit CROSSSLOT. A group whose
 * node answers with an error (MOVED during a reshard, a failover) is retried through the cluster
 * client, which follows redirections.
 */
export function createClusterBackend(config: {
  cluster: Cluster;
  readFromReplicas: boolean;
  wait?: WaitPolicy | undefined;
  close: () => Promise<void>;
}): Backend {
  const { cluster, wait, readFromReplicas } = config;
  hardenSlotTable(cluster);
  const gate = createReadyGate(cluster);
  const ready = <T>(fn: () => Promise<T>) => whenReady(gate, fn);
  /** ioredis' slot table: slot -> [primary, ...replicas] as `host:port` (not in its types). */
  const slotTable = (): Array<string[] | undefined> =>
    (cluster as unknown as { slots: Array<string[] | undefined> }).slots;

  // Durable writes run on connections of their own per primary, as on a standalone store: a
  // WAIT blocks its connection for up to `waitTimeoutMs`, and on the node's shared connection
  // every read of that node's slots would queue behind it. Created on a primary's first durable
  // write, from its node client (same credentials and TLS), closed with the store.
  const durable = new Map<string, { clients: Redis[]; lanes: DurableLanes }>();
  const lanesOf = (address: string, node: Redis): DurableLanes => {
    let entry = durable.get(address);
    if (entry === undefined) {
      const clients = Array.from({ length: CLUSTER_DURABLE_LANES_PER_NODE }, () => {
        const client = node.duplicate({
          lazyConnect: false,
          readOnly: false,
          enableOfflineQueue: false,
          retryStrategy: (times: number) => reconnectDelayMs(times),
        });
        client.on('error', () => {});
        guardReplyDepth(client);
        return client;
      });
      entry = { clients, lanes: createDurableLanes(clients) };
      durable.set(address, entry);
    }
    return entry.lanes;
  };
  const primaryOf = (key: string): { address: string; node: Redis } | undefined => {
    const address = slotTable()[keySlot(key)]?.[0];
    const node = address === undefined ? undefined : nodeByAddress().get(address);
    return node === undefined || address === undefined ? undefined : { address, node };
  };
  /**
   * Writes `writes` (one slot owner's) on that primary's durable lanes, then WAITs there. A write
   * the node refuses (MOVED during a reshard) goes through the cluster client instead, reported
   * as on 0 replicas: the WAIT behind it counted nothing of ours.
   */
  const writeDurably = async (
    address: string,
    node: Redis,
    writes: readonly StoredWrite[],
    policy: WaitPolicy,
  ): Promise<number> => {
    let redirected = false;
    const replicas = await lanesOf(address, node).use(
      writes.map(([key]) => key),
      (client) => {
        const pipeline = client.pipeline();
        for (const [key, payload, pxat] of writes) pipeline.set(key, payload, 'PXAT', pxat);
        const written = execPipeline(pipeline).catch(async () => {
          redirected = true;
          await Promise.all(writes.map(([key, payload, pxat]) => cluster.set(key, payload, 'PXAT', pxat)));
        });
        const { result, busyUntil } = sendWithWait(written, client, policy);
        return { result: result.then(([, count]) => count), busyUntil };
      },
    );
    return redirected ? 0 : replicas;
  };
  /** `mset` with WAIT: one durable write per slot owner; the fewest replicas any of them reached. */
  const msetDurably = async (writes: readonly StoredWrite[], policy: WaitPolicy): Promise<number> => {
    const replicas = await Promise.all(
      [...batchByNode(writes, ([key]) => key, false)].map(async ({ address, node, groups }) => {
        const group = [...groups.values()].flat();
        if (node === undefined) {
          await Promise.all(group.map(([key, payload, pxat]) => cluster.set(key, payload, 'PXAT', pxat)));
          return 0;
        }
        return writeDurably(address, node, group, policy);
      }),
    );
    return Math.min(...replicas);
  };

  const nodeByAddress = (): Map<string, Redis> => {
    const map = new Map<string, Redis>();
    for (const node of cluster.nodes('all')) map.set(`${node.options.host}:${node.options.port}`, node);
    return map;
  };
  const batchByNode = <T>(items: readonly T[], keyOf: (item: T) => string, forRead: boolean) => {
    const nodes = nodeByAddress();
    const slots = slotTable();
    const batches = new Map<string, NodeBatch<T>>();
    for (const item of items) {
      const slot = keySlot(keyOf(item));
      const owners = slots[slot];
      // Replica reads rotate over the slot's replicas by slot number; writes use the primary.
      const address =
        owners === undefined
          ? ''
          : forRead && readFromReplicas && owners.length > 1
            ? (owners[1 + (slot % (owners.length - 1))] as string)
            : (owners[0] as string);
      let batch = batches.get(address);
      if (batch === undefined) {
        batch = { address, node: nodes.get(address), groups: new Map() };
        batches.set(address, batch);
      }
      const group = batch.groups.get(slot);
      if (group === undefined) batch.groups.set(slot, [item]);
      else group.push(item);
    }
    return batches.values();
  };

  /**
   * Runs one pipeline per node; a failed group (or a node we cannot reach directly) falls back.
   * `addGroup` returns how many commands it queued for its group: a group fails, and is retried
   * through the cluster client (which follows MOVED/ASK), if any of its own replies is an error.
   * A group's value is the reply of its first command.
   */
  const perNode = async <T, R>(
    batches: Iterable<NodeBatch<T>>,
    addGroup: (pipeline: ReturnType<Redis['pipeline']>, group: T[]) => number,
    fallback: (group: T[]) => Promise<R>,
    onResult: (group: T[], value: R) => void,
  ): Promise<void> => {
    const work: Promise<void>[] = [];
    for (const { node, groups } of batches) {
      const list = [...groups.values()];
      if (node === undefined || node.status !== 'ready') {
        for (const group of list) work.push(fallback(group).then((value) => onResult(group, value)));
        continue;
      }
      const pipeline = node.pipeline();
      const offsets: number[] = [];
      let queued = 0;
      for (const group of list) {
        offsets.push(queued);
        queued += addGroup(pipeline, group);
      }
      work.push(
        pipeline.exec().then(async (results) => {
          await Promise.all(
            list.map(async (group, i) => {
              const from = offsets[i] as number;
              const to = i + 1 < offsets.length ? (offsets[i + 1] as number) : queued;
              let failed = false;
              for (let at = from; at < to && !failed; at++)
                failed = !results?.[at] || Boolean(results[at]?.[0]);
              onResult(group, failed ? await fallback(group) : (results?.[from]?.[1] as R));
            }),
          );
        }),
      );
    }
    await Promise.all(work);
  };

  const waitAll = async (): Promise<number> => {
    if (wait === undefined) return -1;
    // WAIT must run on the connection that wrote: every primary that took a write.
    const replies = await Promise.all(
      cluster
        .nodes('master')
        .map((node) => boundedWait(node.wait(wait.replicas, wait.timeoutMs), wait.timeoutMs)),
    );
    return Math.min(...replies);
  };

  /**
   * ioredis (cluster-key-slot 1.1.2) hashes `foo{}{bar}` as `bar`; Redis hashes the whole key when
   * the first `{` is followed by `}`. Such keys are sent straight to the node of their exact slot
   * (falling back to the cluster client, which follows MOVED), so they never pay a redirect.
   */
  const misroutedByIoredis = (key: string): boolean => {
    const open = key.indexOf('{');
    return open !== -1 && key.charCodeAt(open + 1) === 0x7d && key.indexOf('{', open + 2) !== -1;
  };
  const direct = <T>(
    key: string,
    viaNode: (node: Redis) => Promise<T>,
    viaCluster: () => Promise<T>,
  ): Promise<T> => {
    if (!misroutedByIoredis(key)) return viaCluster();
    const node = primaryOf(key)?.node;
    if (node === undefined || node.status !== 'ready') return viaCluster();
    return viaNode(node).catch(() => viaCluster());
  };

  return {
    // The slot's primary as the slot table names it (`host:port`); before the first slot
    // refresh, one shared name.
    nodeOf: (key) => slotTable()[keySlot(key)]?.[0] ?? 'cluster',
    onlyNode: undefined,
    get: (key) =>
      ready(() =>
        direct(
          key,
          (node) => node.get(key),
          () => cluster.get(key),
        ),
      ),
    mget(keys) {
      return ready(async () => {
        const indexed = keys.map((key, i) => [key, i] as const);
        const out: Array<string | null> = new Array(keys.length).fill(null);
        await perNode<(typeof indexed)[number], Array<string | null>>(
          batchByNode(indexed, ([key]) => key, true),
          (pipeline, group) => {
            pipeline.mget(...group.map(([key]) => key));
            return 1;
          },
          (group) => cluster.mget(...group.map(([key]) => key)),
          (group, values) =>
            group.forEach(([, i], j) => {
              out[i] = values[j] ?? null;
            }),
        );
        return out;
      });
    },
    set([key, payload, pxat]) {
      return ready(async () => {
        if (wait === undefined) {
          await direct(
            key,
            (node) => node.set(key, payload, 'PXAT', pxat),
            () => cluster.set(key, payload, 'PXAT', pxat),
          );
          return -1;
        }
        const primary = primaryOf(key);
        if (primary === undefined) {
          await cluster.set(key, payload, 'PXAT', pxat);
          return 0;
        }
        return writeDurably(primary.address, primary.node, [[key, payload, pxat]], wait);
      });
    },
    mset(writes: readonly StoredWrite[]) {
      return ready(async () => {
        if (wait !== undefined) return msetDurably(writes, wait);
        await perNode<StoredWrite, unknown>(
          batchByNode(writes, ([key]) => key, false),
          (pipeline, group) => {
            for (const [key, payload, pxat] of group) pipeline.set(key, payload, 'PXAT', pxat);
            return group.length;
          },
          (group) =>
            Promise.all(group.map(([key, payload, pxat]) => cluster.set(key, payload, 'PXAT', pxat))),
          () => {},
        );
        return -1;
      });
    },
    unlink(keys) {
      return ready(async () => {
        if (keys.length === 1) {
          const key = keys[0] as string;
          return direct(
            key,
            (node) => node.unlink(key),
            () => cluster.unlink(key),
          );
        }
        let removed = 0;
        await perNode<string, number>(
          batchByNode(keys, (key) => key, false),
          (pipeline, group) => {
            pipeline.unlink(...group);
            return 1;
          },
          (group) => cluster.unlink(...group),
          (_group, count) => {
            removed += count;
          },
        );
        return removed;
      });
    },
    scanUnlink(pattern) {
      return ready(async () => {
        await Promise.all(
          cluster.nodes('master').map(async (node) => {
            let cursor = '0';
            for (let step = 0; step < MAX_SCAN_STEPS; step++) {
              const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT);
              const bySlot = new Map<number, string[]>();
              for (const key of keys) {
                const slot = keySlot(key);
                const group = bySlot.get(slot);
                if (group === undefined) bySlot.set(slot, [key]);
                else group.push(key);
              }
              await Promise.all([...bySlot.values()].map((group) => node.unlink(...group)));
              cursor = next;
              if (cursor === '0') break;
            }
          }),
        );
        await waitAll();
      });
    },
    async close() {
      await Promise.all(
        [...durable.values()].flatMap(({ clients }) => clients.map((c) => closeOwnedClient(c))),
      );
      durable.clear();
      await config.close();
    },
  };
}

/**
 * ioredis' MOVED handler does `if (slots[slot]) slots[slot][0] = node` with the slot text taken
 * from the reply, so `-MOVED __proto__ host:port` writes `Array.prototype[0]` (FAULTS C5). Own
 * `__proto__` and `constructor` entries on the slot table make those lookups miss instead.
 */
export function hardenSlotTable(cluster: Cluster): void {
  const slots = (cluster as unknown as { slots?: unknown }).slots;
  if (!Array.isArray(slots) || Object.hasOwn(slots, '__proto__')) return;
  for (const name of ['__proto__', 'constructor']) {
    Object.defineProperty(slots, name, {
      value: undefined,
      writable: true,
      enumerable: false,
      configurable: true,
    });
  }
}
