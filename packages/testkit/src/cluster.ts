import { execFile } from 'node:child_process';
import { assertInteger, InvalidOptionError } from '@dc/core';
import { requireRedisBinaries } from './binaries';
import { type RedisNode, startRedis } from './redis-node';
import type { RespReply } from './resp-reply';
import { roleOf } from './roles';
import { waitFor } from './wait-for';

/** Options for {@link startCluster}. */
export interface StartClusterOptions {
  /** `cluster-node-timeout` (ms): how long a node must be unreachable before failover starts. @default 1000 */
  nodeTimeoutMs?: number;
  /** Extra `redis-server` arguments for every node. */
  args?: string[];
  /** `requirepass` + `masterauth` on every node. */
  password?: string;
  /** How long to wait for `cluster_state:ok` and synced replicas after creation (ms). @default 20000 */
  readyTimeoutMs?: number;
}

/** Options for {@link RedisClusterHandle.reshard}. */
export interface ReshardOptions {
  /** Primary that gives up slots (its lowest-numbered ones, as redis-cli picks them). */
  readonly from: RedisNode;
  /** Primary that takes them. */
  readonly to: RedisNode;
  /** How many slots to move (1–16384). */
  readonly slots: number;
  /** Keys per `MIGRATE` (redis-cli `--cluster-pipeline`); 1 makes each slot's move slowest. @default 10 */
  readonly pipeline?: number;
  /** Give up (and kill redis-cli) after this long (ms). @default 60000 */
  readonly timeoutMs?: number;
}

/** One contiguous slot range and the nodes serving it. */
export interface SlotRange {
  readonly start: number;
  readonly end: number;
  readonly primary: RedisNode;
  readonly replicas: RedisNode[];
}

/** A running 6-node Redis Cluster: 3 primaries, each with one replica. */
export interface RedisClusterHandle {
  /** All six nodes, in creation order (the first three were created as primaries). */
  readonly nodes: RedisNode[];
  /** Nodes whose current role is master (running nodes only; reflects failovers). */
  primaries(): Promise<RedisNode[]>;
  /** Nodes whose current role is replica (running nodes only). */
  replicas(): Promise<RedisNode[]>;
  /** Every node's address, for `new Cluster(startupNodes)`. */
  startupNodes(): Array<{ host: string; port: number }>;
  /** Slot ranges as a running node sees them (`CLUSTER SLOTS`). */
  slotRanges(): Promise<SlotRange[]>;
  /** The node currently serving `slot` as primary. */
  primaryForSlot(slot: number): Promise<RedisNode>;
  /** Resolves once every running node reports `cluster_state:ok` and every running replica's link is up. */
  waitForHealthy(timeoutMs?: number): Promise<void>;
  /** The node's cluster node id (`CLUSTER MYID`), which `nodes.conf` keeps across restarts. */
  nodeId(node: RedisNode): Promise<string>;
  /**
   * Moves `slots` slots with their keys from one primary to another while the cluster stays
   * online (`redis-cli --cluster reshard … --cluster-yes`: per slot `SETSLOT IMPORTING/MIGRATING`,
   * `MIGRATE` in batches of `pipeline` keys, then `SETSLOT NODE`; clients meanwhile get ASK for
   * keys already moved and MOVED once the slot is done). Resolves with redis-cli's output.
   * @throws InvalidOptionError (`E_INVALID_OPTION`) for a bad count; Error when redis-cli fails.
   */
  reshard(options: ReshardOptions): Promise<string>;
  /**
   * Restarts `nodes` (default: every killed node) all at once, each on its own
   * port and dir, so it comes back with its id, role and slots from `nodes.conf` (and no data:
   * the harness runs without persistence). Resolves once each answers PING; use
   * {@link RedisClusterHandle.waitForHealthy} to know the cluster serves again.
   */
  restartNodes(nodes?: readonly RedisNode[]): Promise<void>;
  /** Stops every node and removes their dirs. Idempotent. */
  stop(): Promise<void>;
}

/** Defaults for {@link startCluster}. */
export const DEFAULT_CLUSTER_OPTIONS = Object.freeze({ nodeTimeoutMs: 1_000, readyTimeoutMs: 20_000 });

const NODE_COUNT = 6;

/**
 * Starts six cluster-enabled nodes (ports `p` and bus `p + 10000` free), joins them with
 * `redis-cli --cluster create … --cluster-replicas 1 --cluster-yes`, and resolves once every
 * node reports `cluster_state:ok` and every replica has `master_link_status:up` — a replica
 * killed before its first sync never fails over (FAULTS B3).
 * @throws InvalidOptionError (`E_INVALID_OPTION`) for a non-integer or non-positive timeout.
 */
export async function startCluster(options: StartClusterOptions = {}): Promise<RedisClusterHandle> {
  const { nodeTimeoutMs, readyTimeoutMs } = { ...DEFAULT_CLUSTER_OPTIONS, ...options };
  const { args = [], password } = options;
  assertInteger(nodeTimeoutMs, 'nodeTimeoutMs', 1, 'testkit');
  assertInteger(readyTimeoutMs, 'readyTimeoutMs', 1, 'testkit');
  const { redisCli } = requireRedisBinaries();
  const nodeArgs = ['--cluster-node-timeout', String(nodeTimeoutMs), ...args];

  const started = await Promise.allSettled(
    Array.from({ length: NODE_COUNT }, () => startRedis({ clusterEnabled: true, args: nodeArgs, password })),
  );
  const nodes = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const cluster = createHandle(nodes);
  try {
    const failed = started.find((result) => result.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    await run(redisCli, [
      ...authArgs(password),
      '--cluster',
      'create',
      ...nodes.map((node) => `127.0.0.1:${node.port}`),
      '--cluster-replicas',
      '1',
      '--cluster-yes',
    ]);
    const live = () => nodes.filter((node) => node.state === 'running');
    const nodeAt = (port: unknown) => nodes.find((node) => node.port === Number(port));
    await waitFor(() => isHealthy(live(), nodeAt, false), {
      timeoutMs: readyTimeoutMs,
      what: 'cluster_state:ok on every node and every replica link up',
    });
    // A fresh primary's replication offset stays 0 until its first replica PING (10 s), and
    // until then CLUSTER SLOTS hides its replica. FLUSHALL on the still-empty cluster is
    // replicated at once and moves the offset.
    await Promise.all((await cluster.primaries()).map((node) => node.command('FLUSHALL')));
    await cluster.waitForHealthy(readyTimeoutMs);
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}

function createHandle(nodes: RedisNode[]): RedisClusterHandle {
  let stopping: Promise<void> | undefined;
  const running = () => nodes.filter((node) => node.state === 'running');
  const byRole = async (role: 'master' | 'slave') => {
    const live = running();
    const roles = await Promise.all(live.map((node) => roleOf(node).catch(() => undefined)));
    return live.filter((_, i) => roles[i] === role);
  };
  const nodeAt = (port: unknown): RedisNode | undefined => nodes.find((node) => node.port === Number(port));

  const handle: RedisClusterHandle = {
    nodes,
    primaries: () => byRole('master'),
    replicas: () => byRole('slave'),
    startupNodes: () => nodes.map((node) => ({ host: node.host, port: node.port })),
    async slotRanges() {
      let lastError: unknown;
      for (const node of running()) {
        try {
          const reply = await node.call(['CLUSTER', 'SLOTS']);
          return parseSlots(reply, nodeAt);
        } catch (error) {
          lastError = error;
        }
      }
      throw new Error('[dc:testkit] no running cluster node answered CLUSTER SLOTS', { cause: lastError });
    },
    async primaryForSlot(slot) {
      const range = (await handle.slotRanges()).find((r) => r.start <= slot && slot <= r.end);
      if (!range) throw new Error(`[dc:testkit] no cluster node serves slot ${slot}`);
      return range.primary;
    },
    async waitForHealthy(timeoutMs = DEFAULT_CLUSTER_OPTIONS.readyTimeoutMs) {
      await waitFor(() => isHealthy(running(), nodeAt, true), {
        timeoutMs,
        what: 'cluster_state:ok on every running node, every replica link up and listed in CLUSTER SLOTS',
      });
    },
    async nodeId(node) {
      return (await node.command('CLUSTER', 'MYID')).trim();
    },
    async reshard({ from, to, slots, pipeline = 10, timeoutMs = 60_000 }) {
      assertInteger(slots, 'slots', 1, 'testkit');
      if (slots > 16_384) throw new InvalidOptionError('[dc:testkit] `slots` must be at most 16384');
      assertInteger(pipeline, 'pipeline', 1, 'testkit');
      assertInteger(timeoutMs, 'timeoutMs', 1, 'testkit');
      const { redisCli } = requireRedisBinaries();
      const [fromId, toId] = await Promise.all([handle.nodeId(from), handle.nodeId(to)]);
      return run(
        redisCli,
        [
          ...authArgs(from.password),
          '--cluster',
          'reshard',
          `127.0.0.1:${from.port}`,
          '--cluster-from',
          fromId,
          '--cluster-to',
          toId,
          '--cluster-slots',
          String(slots),
          '--cluster-pipeline',
          String(pipeline),
          '--cluster-yes',
        ],
        timeoutMs,
      );
    },
    async restartNodes(which) {
      const targets = which ?? nodes.filter((node) => node.state === 'killed');
      await Promise.all(targets.map((node) => node.restart()));
    },
    stop() {
      stopping ??= Promise.all(nodes.map((node) => node.stop())).then(() => undefined);
      return stopping;
    },
  };
  return handle;
}

async function isHealthy(
  live: RedisNode[],
  nodeAt: (port: unknown) => RedisNode | undefined,
  requireListedReplicas: boolean,
): Promise<boolean> {
  if (live.length === 0) return false;
  const replicaPorts: number[] = [];
  for (const node of live) {
    const state = (await node.command('CLUSTER', 'INFO')).match(/cluster_state:(\w+)/)?.[1];
    if (state !== 'ok') return false;
    const replication = await node.info('replication');
    if (replication.role === 'slave') {
      if (replication.master_link_status !== 'up') return false;
      replicaPorts.push(node.port);
    }
  }
  if (!requireListedReplicas) return true;
  // CLUSTER SLOTS leaves a replica out while gossip reports replication offset 0 for it;
  // clients that read from replicas (ioredis scaleReads) discover them only from this reply.
  for (const node of live) {
    const listed = new Set(
      parseSlots(await node.call(['CLUSTER', 'SLOTS']), nodeAt).flatMap((r) => r.replicas.map((n) => n.port)),
    );
    if (replicaPorts.some((port) => !listed.has(port))) return false;
  }
  return true;
}

function parseSlots(reply: RespReply, nodeAt: (port: unknown) => RedisNode | undefined): SlotRange[] {
  if (!Array.isArray(reply)) throw new Error('[dc:testkit] unexpected CLUSTER SLOTS reply');
  const ranges: SlotRange[] = [];
  for (const item of reply) {
    if (!Array.isArray(item)) continue;
    const [start, end, primaryAddr, ...replicaAddrs] = item;
    const primary = Array.isArray(primaryAddr) ? nodeAt(primaryAddr[1]) : undefined;
    if (primary === undefined) continue;
    const replicas = replicaAddrs.flatMap((addr) => {
      const node = Array.isArray(addr) ? nodeAt(addr[1]) : undefined;
      return node ? [node] : [];
    });
    ranges.push({ start: Number(start), end: Number(end), primary, replicas });
  }
  return ranges.sort((a, b) => a.start - b.start);
}

function authArgs(password: string | undefined): string[] {
  return password === undefined ? [] : ['-a', password, '--no-auth-warning'];
}

function run(file: string, args: string[], timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error) {
        reject(
          new Error(`[dc:testkit] ${file} ${args.join(' ')} failed: ${error.message}\n${stdout}${stderr}`),
        );
      } else {
        resolve(stdout);
      }
    });
  });
}
