/**
 * Parsers for Redis Cluster topology replies, as ioredis returns them (RESP2: nested arrays;
 * `CLUSTER SHARDS` as flat key/value arrays). RESP3-style objects and `Map`s are accepted too.
 */
import { describe, InvalidOptionError } from './internal/errors';
import { SLOT_COUNT } from './key-slot';

/** A contiguous slot range and the nodes serving it. Node ids are `host:port`. */
export interface SlotRange {
  /** First slot, 0..16383. */
  readonly start: number;
  /** Last slot (inclusive), `start`..16383. */
  readonly end: number;
  /** The primary, `host:port` (IPv6 hosts unbracketed, as Redis prints them in `MOVED`). */
  readonly primary: string;
  /** Replicas that can serve reads, `host:port`; empty when unknown. */
  readonly replicas: readonly string[];
}

/** Options of {@link parseClusterShards} and {@link parseClusterSlots}. */
export interface ClusterReplyOptions {
  /**
   * Host to use when a node's endpoint is empty or `?` (Redis: "use the host you are connected
   * to"). Without it such a node is an error.
   */
  fallbackHost?: string;
}

function bad(path: string, what: string, value: unknown): InvalidOptionError {
  return new InvalidOptionError(`[dc:hashing] \`${path}\` ${what}, got ${describe(value)}`);
}

function toNumber(value: unknown, path: string, min: number, max: number): number {
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^\d+$/.test(value)
        ? Number(value)
        : typeof value === 'bigint'
          ? Number(value)
          : Number.NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw bad(path, `must be an integer ${min}..${max}`, value);
  return n;
}

function toText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return new TextDecoder().decode(value);
  return undefined;
}

function nodeId(host: string | undefined, port: number, options: ClusterReplyOptions, path: string): string {
  let resolved = host;
  if (resolved === undefined || resolved === '' || resolved === '?') resolved = options.fallbackHost;
  if (resolved === undefined || resolved === '') {
    throw bad(path, 'has no usable endpoint; pass `fallbackHost` (the host you are connected to)', host);
  }
  return `${resolved}:${port}`;
}

/** Reads a flat `[k1, v1, k2, v2]` array, a `Map` or a plain object as a record. */
function toRecord(value: unknown, path: string): Map<string, unknown> {
  const record = new Map<string, unknown>();
  if (Array.isArray(value)) {
    if (value.length % 2 !== 0) throw bad(path, 'must be a flat key/value array', value);
    for (let i = 0; i < value.length; i += 2) {
      const key = toText(value[i]);
      if (key === undefined) throw bad(`${path}[${i}]`, 'must be a field name', value[i]);
      record.set(key, value[i + 1]);
    }
  } else if (value instanceof Map) {
    for (const [k, v] of value) record.set(String(k), v);
  } else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) record.set(k, v);
  } else {
    throw bad(path, 'must be a key/value array or an object', value);
  }
  return record;
}

function checkRange(start: number, end: number, path: string): void {
  if (end < start) throw bad(path, 'must have start <= end', [start, end]);
}

/**
 * Slot ranges from a `CLUSTER SHARDS` reply (Redis >= 7). The primary is the node whose `role`
 * is `master`; replicas are the `online` replica nodes. A node's id uses its `endpoint`, then its
 * `ip`, then `fallbackHost`, with `port` (or `tls-port` when only that is set).
 *
 * @throws InvalidOptionError naming the offending path when the reply is malformed
 */
export function parseClusterShards(reply: unknown, options: ClusterReplyOptions = {}): SlotRange[] {
  if (!Array.isArray(reply)) throw bad('reply', 'must be the array CLUSTER SHARDS returns', reply);
  const ranges: SlotRange[] = [];
  reply.forEach((shardReply, s) => {
    const shard = toRecord(shardReply, `reply[${s}]`);
    const slots = shard.get('slots');
    const nodes = shard.get('nodes');
    if (!Array.isArray(slots) || slots.length % 2 !== 0) {
      throw bad(`reply[${s}].slots`, 'must be a flat [start, end, ...] array', slots);
    }
    if (!Array.isArray(nodes)) throw bad(`reply[${s}].nodes`, 'must be an array', nodes);
    if (slots.length === 0) return;
    let primary: string | undefined;
    const replicas: string[] = [];
    nodes.forEach((nodeReply, n) => {
      const path = `reply[${s}].nodes[${n}]`;
      const node = toRecord(nodeReply, path);
      const portValue = node.get('port') ?? node.get('tls-port');
      const port = toNumber(portValue, `${path}.port`, 1, 65535);
      const endpoint = toText(node.get('endpoint'));
      const host =
        endpoint !== undefined && endpoint !== '' && endpoint !== '?' ? endpoint : toText(node.get('ip'));
      const role = toText(node.get('role'));
      if (role === 'master') primary = nodeId(host, port, options, path);
      else if (toText(node.get('health')) !== 'failed' && toText(node.get('health')) !== 'loading') {
        replicas.push(nodeId(host, port, options, path));
      }
    });
    if (primary === undefined) return;
    for (let i = 0; i < slots.length; i += 2) {
      const start = toNumber(slots[i], `reply[${s}].slots[${i}]`, 0, SLOT_COUNT - 1);
      const end = toNumber(slots[i + 1], `reply[${s}].slots[${i + 1}]`, 0, SLOT_COUNT - 1);
      checkRange(start, end, `reply[${s}].slots`);
      ranges.push(Object.freeze({ start, end, primary, replicas: Object.freeze([...replicas]) }));
    }
  });
  return ranges;
}

/**
 * Slot ranges from a `CLUSTER SLOTS` reply: `[[start, end, [host, port, id, …], …replicas], …]`.
 *
 * @throws InvalidOptionError naming the offending path when the reply is malformed
 */
export function parseClusterSlots(reply: unknown, options: ClusterReplyOptions = {}): SlotRange[] {
  if (!Array.isArray(reply)) throw bad('reply', 'must be the array CLUSTER SLOTS returns', reply);
  return reply.map((entry, r) => {
    const path = `reply[${r}]`;
    if (!Array.isArray(entry) || entry.length < 3)
      throw bad(path, 'must be [start, end, primary, ...replicas]', entry);
    const start = toNumber(entry[0], `${path}[0]`, 0, SLOT_COUNT - 1);
    const end = toNumber(entry[1], `${path}[1]`, 0, SLOT_COUNT - 1);
    checkRange(start, end, path);
    const ids = entry.slice(2).map((node: unknown, n) => {
      const nodePath = `${path}[${n + 2}]`;
      if (!Array.isArray(node) || node.length < 2) throw bad(nodePath, 'must be [host, port, ...]', node);
      return nodeId(toText(node[0]), toNumber(node[1], `${nodePath}[1]`, 1, 65535), options, nodePath);
    });
    const [primary, ...replicas] = ids as [string, ...string[]];
    return Object.freeze({ start, end, primary, replicas: Object.freeze(replicas) });
  });
}
