import type { Clock } from '@dc/core';
import {
  assertInteger,
  assertNonNegativeMs,
  assertOneOf,
  assertTtlMs,
  DEFAULT_MAX_KEY_LENGTH,
  describeValue,
  InvalidOptionError,
  systemClock,
} from '@dc/core';
import type { EvictionPolicy, KeyIndexKind } from '@dc/eviction';
import { EVICTION_POLICIES, KEY_INDEX_KINDS } from '@dc/eviction';
import type { AttachInvalidationBusOptions } from './attach-invalidation-bus';
import type { InvalidationBus } from './invalidation';
import { estimateSize } from './size-of';

/** Storage engines an L1 can run on. */
export const L1_BACKENDS = ['memory', 'node-cache'] as const;

/** One of {@link L1_BACKENDS}. */
export type L1BackendName = (typeof L1_BACKENDS)[number];

/** One of {@link L1_POLICIES}: `@dc/eviction`'s `EvictionPolicy`. */
export type L1Policy = EvictionPolicy;

/** Eviction policies of the `'memory'` backend (`@dc/eviction`'s `EVICTION_POLICIES`). */
export const L1_POLICIES: readonly L1Policy[] = EVICTION_POLICIES;

/** One of {@link L1_KEY_INDEXES}: `@dc/eviction`'s `KeyIndexKind`. */
export type L1KeyIndex = KeyIndexKind;

/** Key indexes of the `'memory'` backend (`@dc/eviction`'s `KEY_INDEX_KINDS`). */
export const L1_KEY_INDEXES: readonly L1KeyIndex[] = KEY_INDEX_KINDS;

/** Wires an L1 to an invalidation bus at construction; see `attachInvalidationBus`. */
export interface L1InvalidationOptions extends AttachInvalidationBusOptions {
  /** The bus to publish local writes on and receive other instances' writes from. Stays open on `close()`. */
  bus: InvalidationBus;
}

/** Options of `createL1Store`. */
export interface L1StoreOptions<V = unknown> {
  /** Name in errors and metrics. @default 'l1' */
  name?: string;
  /**
   * Storage engine: `'memory'` is `@dc/eviction`'s bounded store; `'node-cache'` runs on
   * node-cache 5 (an optional peer dependency, loaded on first use) for teams already on it.
   * @default 'memory'
   */
  backend?: L1BackendName;
  /**
   * The L1's short TTL (ms): an entry stays at most this long after it was written, or until its
   * own `expiresAt`, whichever comes first. Bounds staleness when the invalidation bus is down.
   * @default 2000
   */
  defaultTtlMs?: number;
  /** Most entries held; the eviction policy makes room beyond it. @default 10000 */
  maxEntries?: number;
  /** Byte budget of all entries as counted by `sizeOf` (`Infinity`: no budget). @default 16 MiB */
  maxBytes?: number;
  /**
   * Largest single entry (bytes, as counted by `sizeOf`); a larger one is refused with
   * `E_CAPACITY` and nothing is evicted for it. Capped by `maxBytes`. @default 1 MiB
   */
  maxEntryBytes?: number;
  /**
   * Estimates a value's size in bytes for `maxBytes`/`maxEntryBytes`. The key (2 bytes per code
   * unit) and a fixed per-entry overhead are added to its result.
   * @default estimateSize
   */
  sizeOf?: (value: V, key: string) => number;
  /**
   * Copy values with `structuredClone` on write and on every read, so neither the writer nor a
   * reader can mutate what the cache holds (node-cache's `useClones`). Costs a copy per hit.
   * @default false
   */
  cloneValues?: boolean;
  /** Longest key accepted (UTF-16 code units); longer keys are rejected synchronously. @default 1024 */
  maxKeyLength?: number;
  /** Eviction policy of the `'memory'` backend (not used by `'node-cache'`, which evicts in write order). @default 'lru' */
  policy?: L1Policy;
  /**
   * Key → slot index of the `'memory'` backend (`@dc/eviction`'s `keyIndex`): `'map'` is a `Map`;
   * `'object'` is a null-prototype object, faster on hits but slower on new-key inserts and
   * evictions and more bytes per entry. Any string key (`__proto__`, `'1'`/`'01'`) behaves the
   * same with either. Not used by `'node-cache'`.
   * @default 'map'
   */
  keyIndex?: L1KeyIndex;
  /**
   * How many recent key changes `fillSync` remembers to refuse fills that raced a write;
   * a fill older than the oldest remembered change is refused. @default 10000
   */
  maxTrackedChanges?: number;
  /** Time source for TTLs and background work. @default systemClock */
  clock?: Clock;
  /**
   * How long (ms) the `'memory'` backend's hit path reuses one clock reading (lru-cache's
   * `ttlResolution`): a busy L1 reads the clock about once per this many ms instead of once per
   * hit. Expiry stays exact: an entry whose deadline is within this resolution plus 17 ms of
   * the reused reading is checked against the clock itself, so an entry is never served past
   * its `expiresAt` unless one synchronous stretch blocks the event loop for longer than ~16 ms
   * (the reading is refreshed by an unref'd timer), and then by at most that stretch.
   * `0` reads the clock on every hit. Not used by `backend: 'node-cache'`.
   * @default 1 with `systemClock`, 0 with any other clock (so a `createManualClock()` stays exact)
   */
  clockResolutionMs?: number;
  /** Attach an invalidation bus at construction (detached, not closed, by `close()`). */
  invalidation?: L1InvalidationOptions;
}

/** Defaults of {@link L1StoreOptions}. */
export const DEFAULT_L1_STORE_OPTIONS = Object.freeze({
  name: 'l1',
  backend: 'memory' as L1BackendName,
  defaultTtlMs: 2_000,
  maxEntries: 10_000,
  maxBytes: 16 * 1024 * 1024,
  maxEntryBytes: 1024 * 1024,
  maxKeyLength: DEFAULT_MAX_KEY_LENGTH,
  cloneValues: false,
  policy: 'lru' as L1Policy,
  keyIndex: 'map' as L1KeyIndex,
  maxTrackedChanges: 10_000,
});

/** {@link L1StoreOptions} with every default applied and validated. */
export interface ResolvedL1StoreOptions<V = unknown> {
  readonly name: string;
  readonly backend: L1BackendName;
  readonly defaultTtlMs: number;
  readonly maxEntries: number;
  readonly maxBytes: number;
  readonly maxEntryBytes: number;
  readonly sizeOf: (value: V, key: string) => number;
  readonly cloneValues: boolean;
  readonly maxKeyLength: number;
  readonly policy: L1Policy;
  readonly keyIndex: L1KeyIndex;
  readonly maxTrackedChanges: number;
  readonly clock: Clock;
  readonly clockResolutionMs: number;
  readonly invalidation: L1InvalidationOptions | undefined;
}

const KNOWN_OPTIONS = new Set<string>([
  'name',
  'backend',
  'defaultTtlMs',
  'maxEntries',
  'maxBytes',
  'maxEntryBytes',
  'sizeOf',
  'cloneValues',
  'maxKeyLength',
  'policy',
  'keyIndex',
  'maxTrackedChanges',
  'clock',
  'clockResolutionMs',
  'invalidation',
]);

const fail = (message: string): never => {
  throw new InvalidOptionError(`[dc:l1] ${message}`);
};

function assertByteBudget(value: unknown, name: string): asserts value is number {
  const ok =
    typeof value === 'number' &&
    (value === Number.POSITIVE_INFINITY || (Number.isInteger(value) && value >= 1));
  if (!ok)
    fail(`\`${name}\` must be a positive integer number of bytes or Infinity, got ${describeValue(value)}`);
}

/**
 * Merges `options` over {@link DEFAULT_L1_STORE_OPTIONS} and validates every field.
 * @throws InvalidOptionError naming the first bad or unknown option.
 */
export function resolveL1StoreOptions<V>(options: L1StoreOptions<V> = {}): ResolvedL1StoreOptions<V> {
  if (typeof options !== 'object' || options === null)
    fail(`options must be an object, got ${describeValue(options)}`);
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) fail(`unknown option \`${key}\``);
  }
  const defined = Object.fromEntries(
    Object.entries(options).filter(([, value]) => value !== undefined),
  ) as L1StoreOptions<V>;
  const merged = { ...DEFAULT_L1_STORE_OPTIONS, ...defined };
  const { name, backend, defaultTtlMs, maxEntries, maxBytes, maxEntryBytes, maxKeyLength } = merged;
  if (typeof name !== 'string' || name.length === 0)
    fail(`\`name\` must be a non-empty string, got ${describeValue(name)}`);
  assertOneOf(backend, L1_BACKENDS, 'backend', 'l1');
  assertTtlMs(defaultTtlMs, 'defaultTtlMs', 'l1');
  assertInteger(maxEntries, 'maxEntries', 1, 'l1');
  assertByteBudget(maxBytes, 'maxBytes');
  assertByteBudget(maxEntryBytes, 'maxEntryBytes');
  assertInteger(maxKeyLength, 'maxKeyLength', 1, 'l1');
  assertInteger(merged.maxTrackedChanges, 'maxTrackedChanges', 1, 'l1');
  assertOneOf(merged.policy, L1_POLICIES, 'policy', 'l1');
  if (backend === 'node-cache' && defined.policy !== undefined)
    fail(`\`policy\` applies to \`backend: 'memory'\` only; node-cache evicts in write order`);
  assertOneOf(merged.keyIndex, L1_KEY_INDEXES, 'keyIndex', 'l1');
  if (backend === 'node-cache' && defined.keyIndex !== undefined)
    fail(`\`keyIndex\` applies to \`backend: 'memory'\` only; node-cache keeps its own index`);
  if (typeof merged.cloneValues !== 'boolean')
    fail(`\`cloneValues\` must be a boolean, got ${describeValue(merged.cloneValues)}`);
  const sizeOf = defined.sizeOf ?? (estimateSize as (value: V) => number);
  if (typeof sizeOf !== 'function') fail(`\`sizeOf\` must be a function, got ${describeValue(sizeOf)}`);
  const clock = defined.clock ?? systemClock;
  if (
    typeof clock !== 'object' ||
    clock === null ||
    typeof clock.now !== 'function' ||
    typeof clock.setTimer !== 'function'
  )
    fail(`\`clock\` must be a Clock with \`now()\` and \`setTimer()\`, got ${describeValue(clock)}`);
  const clockResolutionMs = defined.clockResolutionMs ?? (clock === systemClock ? 1 : 0);
  assertNonNegativeMs(clockResolutionMs, 'clockResolutionMs', 'l1');
  const { invalidation } = defined;
  if (invalidation !== undefined) {
    const bus = (invalidation as Partial<L1InvalidationOptions> | null)?.bus;
    if (
      typeof bus !== 'object' ||
      bus === null ||
      typeof bus.publish !== 'function' ||
      typeof bus.subscribe !== 'function'
    )
      fail(`\`invalidation.bus\` must be an InvalidationBus, got ${describeValue(bus)}`);
  }
  return Object.freeze({
    name,
    backend,
    defaultTtlMs,
    maxEntries,
    maxBytes,
    maxEntryBytes,
    sizeOf,
    cloneValues: merged.cloneValues,
    maxKeyLength,
    policy: merged.policy,
    keyIndex: merged.keyIndex,
    maxTrackedChanges: merged.maxTrackedChanges,
    clock,
    clockResolutionMs,
    invalidation,
  });
}
