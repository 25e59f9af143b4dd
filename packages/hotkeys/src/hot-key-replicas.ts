import type { CacheEntry, CacheStore, Clock, Random } from '@dc/core';
import {
  assertInteger,
  assertTtlMs,
  assertValidKey,
  defineStore,
  InvalidOptionError,
  systemClock,
} from '@dc/core';
import type { SlotMap } from '@dc/hashing';
import { replicaKeysOnDistinctNodes } from '@dc/hashing';
import type { HotKeyDetector } from './hot-key-detector';
import { capEntry } from './internal/cap-entry';
import { SCOPE } from './internal/scope';
import { assertClock, assertFunction } from './internal/validate';
import { createWriteFence } from './internal/write-fence';

/**
 * Returns the `replicas` key names that hold copies of `key`. They must be distinct, differ from
 * `key`, and be stable (the same input always gives the same names). On a Redis Cluster, pass a
 * namer that picks names hashing to distinct primaries (`@dc/hashing`).
 */
export type ReplicaNamer = (key: string, replicas: number) => readonly string[];

/** The default {@link ReplicaNamer}: `key#0`, `key#1`, ... `key#(replicas-1)`. */
export function suffixReplicaKeys(key: string, replicas: number): string[] {
  const names: string[] = [];
  for (let i = 0; i < replicas; i++) names.push(`${key}#${i}`);
  return names;
}

/** Options for {@link withHotKeyReplicas}. Give `detector`, `keys`, or both. */
export interface HotKeyReplicaOptions {
  /** Copies per replicated key (reads pick one at random). Integer >= 1. @default 3 */
  replicas?: number;
  /** Replicates the keys this detector marks hot, from `hotkey:hot` until `hotkey:cool`. */
  detector?: HotKeyDetector;
  /** Keys replicated for the decorator's whole life, whatever the detector says. */
  keys?: Iterable<string>;
  /**
   * Names the replicas of a key. Takes precedence over `slotMap`.
   * @default with `slotMap`: names on distinct primaries; otherwise suffixReplicaKeys (`key#i`)
   */
  replicaKeys?: ReplicaNamer;
  /**
   * A Redis Cluster slot map (`createSlotMap(parseClusterShards(reply))` from `@dc/hashing`):
   * replica names are chosen so that the copies of one key land on distinct primaries. Names
   * are computed once per replicated key; after a resharding they stay correct, only less spread.
   */
  slotMap?: SlotMap;
  /** Picks the replica a read goes to. @default Math.random */
  random?: Random;
  /**
   * Longest life of a replica copy (ms): copies are written with their expiry capped to
   * `now + replicaTtlMs`. This bounds how stale a replica can be when another process wrote the
   * base key without fanning out, and how long copies outlive a cool-down. @default 10_000
   */
  replicaTtlMs?: number;
  /** Whether every `get` is recorded in `detector` (turn off when another layer records). @default true */
  record?: boolean;
  /** Whether a replica miss copies the base entry into that replica. @default true */
  readRepair?: boolean;
  /** Time source for `replicaTtlMs`. @default detector's clock, else systemClock */
  clock?: Clock;
}

/** Defaults of {@link HotKeyReplicaOptions}. */
export const DEFAULT_HOT_KEY_REPLICA_OPTIONS = Object.freeze({
  replicas: 3,
  replicaTtlMs: 10_000,
  record: true,
  readRepair: true,
});

/** A snapshot of a replicated store's counters. */
export interface HotKeyReplicaMetrics {
  /** Keys currently replicated (reads spread over replicas). */
  readonly replicatedKeys: readonly string[];
  /** Keys cooled down whose writes still fan out until their copies have expired. */
  readonly lingeringKeys: number;
  /** Reads sent to a replica. */
  readonly replicaReads: number;
  /** Replica reads that missed and fell back to the base key. */
  readonly replicaMisses: number;
  /** Replica copies written by read repair. */
  readonly repairs: number;
  /** Writes or deletes that went to every replica. */
  readonly fanOuts: number;
  /** Read-repair writes that failed (the read itself still succeeded). */
  readonly repairErrors: number;
}

/** The store returned by {@link withHotKeyReplicas}. */
export interface HotKeyReplicatedStore<V = unknown> extends CacheStore<V> {
  /** The replica names of `key` (whether or not it is replicated now). */
  replicaKeysOf(key: string): readonly string[];
  /** Counters for export. */
  metrics(): HotKeyReplicaMetrics;
}

interface Tracked {
  hot: boolean;
  /** While not hot: writes fan out until this time (epoch ms), when every copy has expired. */
  lingerUntil: number;
}

/**
 * A `StoreDecorator` that spreads a hot key over `replicas` copies: its reads go to a random
 * replica (falling back to the base key, then repairing that replica), its writes and deletes go
 * to the base key and every replica. After a key cools down its copies are NOT deleted: they
 * expire by TTL (at most `replicaTtlMs`), and until then writes and deletes of that key keep
 * fanning out, so a read through this decorator never sees an outdated copy.
 * @throws InvalidOptionError for `replicas < 1`, a missing `detector`/`keys`, or a bad option.
 */
export function withHotKeyReplicas<V = unknown>(
  options: HotKeyReplicaOptions,
): (store: CacheStore<V>) => HotKeyReplicatedStore<V> {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError(`[dc:${SCOPE}] withHotKeyReplicas() needs an options object`);
  }
  const d = DEFAULT_HOT_KEY_REPLICA_OPTIONS;
  const replicas = options.replicas ?? d.replicas;
  assertInteger(replicas, 'replicas', 1, SCOPE);
  const { detector } = options;
  if (detector !== undefined && (typeof detector.isHot !== 'function' || typeof detector.on !== 'function')) {
    throw new InvalidOptionError(
      `[dc:${SCOPE}] \`detector\` must be a HotKeyDetector (createHotKeyDetector())`,
    );
  }
  const staticKeys = options.keys === undefined ? [] : [...options.keys];
  for (const key of staticKeys) assertValidKey(key, SCOPE);
  if (detector === undefined && options.keys === undefined) {
    throw new InvalidOptionError(`[dc:${SCOPE}] withHotKeyReplicas() needs \`detector\` or \`keys\``);
  }
  const { slotMap } = options;
  if (slotMap !== undefined && typeof slotMap?.nodeForSlot !== 'function') {
    throw new InvalidOptionError(
      `[dc:${SCOPE}] \`slotMap\` must be a SlotMap from @dc/hashing's createSlotMap()`,
    );
  }
  const namer: ReplicaNamer =
    options.replicaKeys ??
    (slotMap === undefined ? suffixReplicaKeys : (key, n) => replicaKeysOnDistinctNodes(slotMap, key, n));
  assertFunction(namer, 'replicaKeys');
  const random = options.random ?? Math.random;
  assertFunction(random, 'random');
  const replicaTtlMs = options.replicaTtlMs ?? d.replicaTtlMs;
  assertTtlMs(replicaTtlMs, 'replicaTtlMs', SCOPE);
  const record = (options.record ?? d.record) && detector !== undefined;
  const readRepair = options.readRepair ?? d.readRepair;
  const clock = options.clock ?? detector?.options.clock ?? systemClock;
  assertClock(clock);

  return (base) => {
    const tracked = new Map<string, Tracked>();
    const names = new Map<string, readonly string[]>();
    const fence = createWriteFence();
    let replicaReads = 0;
    let replicaMisses = 0;
    let repairs = 0;
    let fanOuts = 0;
    let repairErrors = 0;

    const replicaKeysOf = (key: string): readonly string[] => {
      const known = names.get(key);
      if (known !== undefined) return known;
      const made = namer(key, replicas);
      if (!Array.isArray(made) || made.length !== replicas || new Set(made).size !== replicas) {
        throw new InvalidOptionError(
          `[dc:${SCOPE}] \`replicaKeys\` must return ${replicas} distinct names for ${JSON.stringify(key)}`,
        );
      }
      for (const name of made) {
        assertValidKey(name, SCOPE);
        if (name === key) {
          throw new InvalidOptionError(
            `[dc:${SCOPE}] \`replicaKeys\` returned the base key ${JSON.stringify(key)}`,
          );
        }
      }
      const frozen = Object.freeze([...made]);
      names.set(key, frozen);
      return frozen;
    };

    const sweep = (now: number): void => {
      for (const [key, t] of tracked) {
        if (!t.hot && t.lingerUntil <= now) {
          tracked.delete(key);
          names.delete(key);
        }
      }
    };

    const heat = (key: string): void => {
      const t = tracked.get(key);
      if (t === undefined) tracked.set(key, { hot: true, lingerUntil: Number.POSITIVE_INFINITY });
      else {
        t.hot = true;
        t.lingerUntil = Number.POSITIVE_INFINITY;
      }
    };

    for (const key of staticKeys) heat(key);
    const pinned = new Set(staticKeys);
    const unsubscribers: Array<() => void> = [];
    if (detector !== undefined) {
      for (const key of detector.hotKeys()) heat(key);
      unsubscribers.push(detector.on('hotkey:hot', ({ key }) => heat(key)));
      unsubscribers.push(
        detector.on('hotkey:cool', ({ key }) => {
          const t = tracked.get(key);
          if (t === undefined || pinned.has(key)) return;
          const now = clock.now();
          t.hot = false;
          t.lingerUntil = now + replicaTtlMs;
          sweep(now);
        }),
      );
    }

    /** Replica names when writes of `key` must fan out, else undefined. */
    const fanOutTargets = (key: string): readonly string[] | undefined => {
      const t = tracked.get(key);
      if (t === undefined) return undefined;
      if (!t.hot && t.lingerUntil <= clock.now()) {
        tracked.delete(key);
        names.delete(key);
        return undefined;
      }
      return replicaKeysOf(key);
    };

    const pick = (replicaNames: readonly string[]): string => {
      const i = Math.min(replicas - 1, Math.floor(random() * replicas));
      return replicaNames[i] as string;
    };

    const repair = async (name: string, entry: CacheEntry<V>): Promise<void> => {
      const copy = capEntry(entry, clock.now(), replicaTtlMs);
      if (copy === undefined) return;
      try {
        await base.set(name, copy);
        repairs++;
      } catch {
        repairErrors++;
      }
    };

    const readBase = async (key: string, replica: string): Promise<CacheEntry<V> | undefined> => {
      replicaMisses++;
      const ticket = fence.begin(key);
      try {
        const entry = await base.get(key);
        if (entry !== undefined && readRepair && fence.isCurrent(key, ticket)) await repair(replica, entry);
        return entry;
      } finally {
        fence.end(key);
      }
    };

    const fanOutEntries = (key: string, entry: CacheEntry<V>, targets: readonly string[]) => {
      const out: Array<readonly [string, CacheEntry<V>]> = [[key, entry]];
      const copy = capEntry(entry, clock.now(), replicaTtlMs);
      if (copy !== undefined) for (const name of targets) out.push([name, copy]);
      return out;
    };

    const store = defineStore<V>({
      name: `hot-replicas(${base.name})`,
      async get(key) {
        if (record) detector?.record(key);
        const t = tracked.get(key);
        if (t === undefined || !t.hot) return base.get(key);
        const replica = pick(replicaKeysOf(key));
        replicaReads++;
        const entry = await base.get(replica);
        return entry ?? readBase(key, replica);
      },
      async set(key, entry) {
        fence.invalidate(key);
        const targets = fanOutTargets(key);
        if (targets === undefined) return base.set(key, entry);
        fanOuts++;
        // Replicas are written even if they expire sooner than the entry; a copy that could
        // not be capped (already expired) is left out and the stale one deleted.
        const writes = fanOutEntries(key, entry, targets);
        if (writes.length === 1) await base.deleteMany(targets);
        await base.setMany(writes);
      },
      async delete(key) {
        fence.invalidate(key);
        const targets = fanOutTargets(key);
        if (targets === undefined) return base.delete(key);
        fanOuts++;
        const [removed] = await Promise.all([base.delete(key), base.deleteMany(targets)]);
        return removed;
      },
      async clear() {
        await base.clear();
      },
      async close() {
        for (const off of unsubscribers) off();
        await base.close();
      },
      async getMany(keys) {
        const physical = keys.map((key) => {
          if (record) detector?.record(key);
          const t = tracked.get(key);
          if (t === undefined || !t.hot) return key;
          replicaReads++;
          return pick(replicaKeysOf(key));
        });
        const entries = await base.getMany(physical);
        const misses: number[] = [];
        for (let i = 0; i < keys.length; i++) {
          if (entries[i] === undefined && physical[i] !== keys[i]) misses.push(i);
        }
        await Promise.all(
          misses.map(async (i) => {
            entries[i] = await readBase(keys[i] as string, physical[i] as string);
          }),
        );
        return entries;
      },
      async setMany(entries) {
        const writes: Array<readonly [string, CacheEntry<V>]> = [];
        for (const [key, entry] of entries) {
          fence.invalidate(key);
          const targets = fanOutTargets(key);
          if (targets === undefined) writes.push([key, entry]);
          else {
            fanOuts++;
            writes.push(...fanOutEntries(key, entry, targets));
          }
        }
        await base.setMany(writes);
      },
      async deleteMany(keys) {
        const extra: string[] = [];
        for (const key of keys) {
          fence.invalidate(key);
          const targets = fanOutTargets(key);
          if (targets !== undefined) {
            fanOuts++;
            extra.push(...targets);
          }
        }
        const [removed] = await Promise.all([
          base.deleteMany(keys),
          extra.length ? base.deleteMany(extra) : 0,
        ]);
        return removed;
      },
    });

    return Object.assign(store, {
      replicaKeysOf,
      metrics: (): HotKeyReplicaMetrics => {
        const replicated: string[] = [];
        let lingering = 0;
        const now = clock.now();
        for (const [key, t] of tracked) {
          if (t.hot) replicated.push(key);
          else if (t.lingerUntil > now) lingering++;
        }
        return {
          replicatedKeys: replicated,
          lingeringKeys: lingering,
          replicaReads,
          replicaMisses,
          repairs,
          fanOuts,
          repairErrors,
        };
      },
    });
  };
}
