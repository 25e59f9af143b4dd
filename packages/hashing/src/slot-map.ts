import type { SlotRange } from './cluster-reply';
import { CacheUnavailableError, describe, InvalidOptionError } from './internal/errors';
import { keySlot, SLOT_COUNT } from './key-slot';

/** Options of {@link SlotMap.applyMoved}. */
export interface ApplyMovedOptions {
  /** Host for a redirect with an empty endpoint (`MOVED 3999 :6381`). */
  fallbackHost?: string;
}

/** 16384 slots → node, for routing and batching without CROSSSLOT errors. */
export interface SlotMap {
  /** The primary serving `slot`, or `undefined` when no node does. */
  nodeForSlot(slot: number): string | undefined;
  /**
   * The primary serving `key`'s slot, or `undefined` when no node does.
   * @throws InvalidKeyError when `key` is neither a string nor a `Uint8Array`
   */
  nodeForKey(key: string | Uint8Array): string | undefined;
  /** Replicas known for `slot` (from the last `update`); empty after a `MOVED` moved it. */
  replicasForSlot(slot: number): readonly string[];
  /**
   * Replaces the whole map with `ranges` (a topology refresh). Slots not covered become unassigned.
   * @throws InvalidOptionError when a range is malformed
   */
  update(ranges: readonly SlotRange[]): void;
  /**
   * Records a `MOVED <slot> <host>:<port>` redirect (an `Error` or its message) and returns the
   * new owner. `ASK` redirects are one-shot and are rejected.
   * @throws InvalidOptionError when `redirect` is not a `MOVED` redirect
   */
  applyMoved(redirect: string | { readonly message: string }, options?: ApplyMovedOptions): string;
  /** Keys grouped by slot, in first-seen order; each group can go in one multi-key command. */
  groupBySlot<K extends string | Uint8Array>(keys: Iterable<K>): Map<number, K[]>;
  /**
   * Keys grouped by serving primary, in first-seen order (one pipeline per node).
   * @throws CacheUnavailableError (`E_STORE_UNAVAILABLE`) when a key's slot has no node; refresh
   *   the map with `CLUSTER SHARDS`
   */
  groupByNode<K extends string | Uint8Array>(keys: Iterable<K>): Map<string, K[]>;
  /** Primaries that serve at least one slot, in first-seen order. */
  readonly nodes: readonly string[];
  /** Number of slots with a node (16384 when the cluster is fully covered). */
  readonly coveredSlots: number;
  /** The map as sorted, merged ranges. */
  ranges(): SlotRange[];
}

interface NodeEntry {
  readonly primary: string;
  readonly replicas: readonly string[];
}

const NONE: readonly string[] = Object.freeze([]);
// Slot owners are stored as 1 + entry index in a Uint16Array.
const MAX_ENTRIES = 0xffff;

function assertSlot(slot: unknown, name: string): number {
  if (typeof slot !== 'number' || !Number.isInteger(slot) || slot < 0 || slot >= SLOT_COUNT) {
    throw new InvalidOptionError(
      `[dc:hashing] \`${name}\` must be an integer 0..16383, got ${describe(slot)}`,
    );
  }
  return slot;
}

class SlotTable implements SlotMap {
  // 0 = unassigned, otherwise 1 + index into `entries`.
  private readonly owners = new Uint16Array(SLOT_COUNT);
  private entries: NodeEntry[] = [];
  private nodeView: readonly string[] | undefined;

  nodeForSlot(slot: number): string | undefined {
    const owner = this.owners[slot];
    return owner ? this.entries[owner - 1]?.primary : undefined;
  }

  nodeForKey(key: string | Uint8Array): string | undefined {
    const owner = this.owners[keySlot(key)] as number;
    return owner ? this.entries[owner - 1]?.primary : undefined;
  }

  replicasForSlot(slot: number): readonly string[] {
    const owner = this.owners[slot];
    return owner ? (this.entries[owner - 1]?.replicas ?? NONE) : NONE;
  }

  update(ranges: readonly SlotRange[]): void {
    if (!Array.isArray(ranges)) {
      throw new InvalidOptionError(
        `[dc:hashing] \`ranges\` must be an array of slot ranges, got ${describe(ranges)}`,
      );
    }
    const entries: NodeEntry[] = [];
    const index = new Map<string, number>();
    const owners = new Uint16Array(SLOT_COUNT);
    ranges.forEach((range: SlotRange, i) => {
      if (typeof range !== 'object' || range === null) {
        throw new InvalidOptionError(
          `[dc:hashing] \`ranges[${i}]\` must be a slot range, got ${describe(range)}`,
        );
      }
      const start = assertSlot(range.start, `ranges[${i}].start`);
      const end = assertSlot(range.end, `ranges[${i}].end`);
      if (end < start) {
        throw new InvalidOptionError(`[dc:hashing] \`ranges[${i}]\` has end ${end} < start ${start}`);
      }
      if (typeof range.primary !== 'string' || range.primary.length === 0) {
        throw new InvalidOptionError(
          `[dc:hashing] \`ranges[${i}].primary\` must be a "host:port" string, got ${describe(range.primary)}`,
        );
      }
      const replicas = Array.isArray(range.replicas) ? range.replicas : NONE;
      const id = `${range.primary}\n${replicas.join('\n')}`;
      let owner = index.get(id);
      if (owner === undefined) {
        if (entries.length === MAX_ENTRIES) {
          throw new InvalidOptionError(
            `[dc:hashing] \`ranges\` name more than ${MAX_ENTRIES} distinct nodes`,
          );
        }
        entries.push(Object.freeze({ primary: range.primary, replicas: Object.freeze([...replicas]) }));
        owner = entries.length;
        index.set(id, owner);
      }
      owners.fill(owner, start, end + 1);
    });
    this.owners.set(owners);
    this.entries = entries;
    this.nodeView = undefined;
  }

  applyMoved(redirect: string | { readonly message: string }, options: ApplyMovedOptions = {}): string {
    const message =
      typeof redirect === 'string'
        ? redirect
        : typeof redirect === 'object' && redirect !== null && typeof redirect.message === 'string'
          ? redirect.message
          : undefined;
    const match = message === undefined ? null : /^MOVED (\d+) (\S*):(\d+)\s*$/.exec(message);
    if (match === null) {
      throw new InvalidOptionError(
        `[dc:hashing] \`redirect\` must be a "MOVED <slot> <host>:<port>" error or message (ASK is one-shot and never updates the map), got ${describe(message ?? redirect)}`,
      );
    }
    const slot = assertSlot(Number(match[1]), 'redirect slot');
    const host = match[2] === '' || match[2] === '?' ? options.fallbackHost : match[2];
    if (host === undefined || host === '') {
      throw new InvalidOptionError(
        `[dc:hashing] MOVED redirect ${describe(message)} has no endpoint; pass \`fallbackHost\` (the host you are connected to)`,
      );
    }
    const primary = `${host}:${match[3]}`;
    let owner = this.entries.findIndex((e) => e.primary === primary && e.replicas.length === 0) + 1;
    if (owner === 0) {
      // Entries only grow through redirects to unseen primaries; compact rather than overflow.
      if (this.entries.length === MAX_ENTRIES) this.update(this.ranges());
      // The slot's old replicas follow the old primary, so the new owner starts with none known.
      this.entries.push(Object.freeze({ primary, replicas: NONE }));
      owner = this.entries.length;
    }
    this.owners[slot] = owner;
    this.nodeView = undefined;
    return primary;
  }

  groupBySlot<K extends string | Uint8Array>(keys: Iterable<K>): Map<number, K[]> {
    const groups = new Map<number, K[]>();
    for (const key of keys) {
      const slot = keySlot(key);
      const group = groups.get(slot);
      if (group === undefined) groups.set(slot, [key]);
      else group.push(key);
    }
    return groups;
  }

  groupByNode<K extends string | Uint8Array>(keys: Iterable<K>): Map<string, K[]> {
    const groups = new Map<string, K[]>();
    for (const key of keys) {
      const slot = keySlot(key);
      const owner = this.owners[slot] as number;
      const node = owner ? this.entries[owner - 1]?.primary : undefined;
      if (node === undefined) {
        throw new CacheUnavailableError(
          `[dc:hashing] slot ${slot} of key ${describe(typeof key === 'string' ? key : `<${key.length} bytes>`)} has no node in the slot map; refresh it from CLUSTER SHARDS`,
        );
      }
      const group = groups.get(node);
      if (group === undefined) groups.set(node, [key]);
      else group.push(key);
    }
    return groups;
  }

  get nodes(): readonly string[] {
    if (this.nodeView === undefined) {
      const seen = new Set<string>();
      for (let slot = 0; slot < SLOT_COUNT; slot++) {
        const owner = this.owners[slot] as number;
        if (owner) seen.add((this.entries[owner - 1] as NodeEntry).primary);
      }
      this.nodeView = Object.freeze([...seen]);
    }
    return this.nodeView;
  }

  get coveredSlots(): number {
    let covered = 0;
    for (let slot = 0; slot < SLOT_COUNT; slot++) if (this.owners[slot]) covered++;
    return covered;
  }

  ranges(): SlotRange[] {
    const ranges: SlotRange[] = [];
    let slot = 0;
    while (slot < SLOT_COUNT) {
      const owner = this.owners[slot] as number;
      let end = slot;
      while (end + 1 < SLOT_COUNT && this.owners[end + 1] === owner) end++;
      if (owner) {
        const entry = this.entries[owner - 1] as NodeEntry;
        ranges.push(Object.freeze({ start: slot, end, primary: entry.primary, replicas: entry.replicas }));
      }
      slot = end + 1;
    }
    return ranges;
  }
}

/**
 * Creates a slot map, optionally filled from `ranges` (see `parseClusterShards` and
 * `parseClusterSlots`); slots not covered have no node until `update` or `applyMoved`.
 *
 * @throws InvalidOptionError when a range is malformed
 */
export function createSlotMap(ranges: readonly SlotRange[] = []): SlotMap {
  const map = new SlotTable();
  map.update(ranges);
  return map;
}
