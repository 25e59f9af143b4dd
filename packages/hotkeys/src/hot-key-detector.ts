/**
 * Streaming hot-key detection: a count-min sketch with conservative update (Estan & Varghese,
 * "New Directions in Traffic Measurement", 2002) feeding a fixed-size candidate table, over an
 * exponentially decaying window.
 *
 * - Every `record(key)` hashes the key once (FNV-1a + fmix32) and derives the `depth` row indexes
 *   by double hashing (Kirsch & Mitzenmacher). The conservative update raises only the counters
 *   that equal the row minimum, which keeps the over-count of heavy keys close to zero.
 * - The candidate table holds the `candidateCapacity` keys with the highest estimates; a new key
 *   replaces the table's minimum only when its estimate is larger (its sketch count carries its
 *   whole history, unlike Space-Saving, so a late-arriving hot key is admitted at its true count).
 * - Time: every `windowMs / 8` (a "tick") all counters are multiplied by 7/8, so a count is a sum
 *   of recent events with weights that halve about every 5 ticks; for a key with a constant rate
 *   `r` the count converges to about `r * windowMs`. Rates divide by the exact weight a constant
 *   stream would have accumulated, so they are unbiased during warm-up as well.
 * - `record` never reads the clock; ticks run on `clock.setTimer`, which is also where keys that
 *   stopped being read are noticed and cooled down.
 */
import type { Clock, Random, TimerHandle } from '@dc/core';
import { assertInteger, assertTtlMs, InvalidKeyError, InvalidOptionError, systemClock } from '@dc/core';
import { hashKey } from './internal/hash';
import { SCOPE } from './internal/scope';
import { assertClock, assertFiniteNumber, assertFunction } from './internal/validate';

/** Decay steps per `windowMs`. */
const TICKS_PER_WINDOW = 8;
/** Factor applied to every counter at each tick. */
const DECAY = 1 - 1 / TICKS_PER_WINDOW;
/** Counters below this are set to zero at a tick, so long-idle cells never become denormals. */
const ZERO_BELOW = 1e-3;
/** Per tracked key, beyond its characters: Map entry, array slot and string header (estimate). */
export const HOT_KEY_SLOT_OVERHEAD_BYTES = 96;

/** Options for {@link createHotKeyDetector}. */
export interface HotKeyDetectorOptions {
  /** Length of the decaying window (ms); a constant-rate key's count converges to `rate * windowMs`. @default 10_000 */
  windowMs?: number;
  /** Most keys reported as hot at once; also the default size of `top()`. Integer >= 1. @default 16 */
  topK?: number;
  /** Estimated rate (requests/s, this process) at or above which a top-K key becomes hot. @default 100 */
  threshold?: number;
  /**
   * Rate (requests/s) below which a hot key cools down; lower than `threshold` so that a key
   * hovering at the threshold does not flap. @default threshold / 2
   */
  coolThreshold?: number;
  /** Counters per sketch row; rounded up to a power of two. More width, fewer collisions. @default 4096 */
  width?: number;
  /** Sketch rows (independent hashes). @default 4 */
  depth?: number;
  /** Keys tracked in the candidate table; must be >= `topK`. @default max(2 * topK, topK + 16) */
  candidateCapacity?: number;
  /**
   * Fraction of `record` calls that are counted, in (0, 1]; each counted call weighs
   * `1 / sampleRate`, so rates stay in requests/s. Sampling makes `record` cheap enough for
   * the hottest read paths while still catching keys that carry a large share of traffic.
   * @default 1
   */
  sampleRate?: number;
  /** Time source for the window; tests pass `createManualClock()`. @default systemClock */
  clock?: Clock;
  /** Seeds the sampler (only used when `sampleRate < 1`). @default Math.random */
  random?: Random;
  /** Receives errors thrown by event listeners (they never reach the caller of `record`). */
  onListenerError?: (error: unknown) => void;
}

/** Defaults of {@link HotKeyDetectorOptions}. */
export const DEFAULT_HOT_KEY_DETECTOR_OPTIONS = Object.freeze({
  windowMs: 10_000,
  topK: 16,
  threshold: 100,
  width: 4096,
  depth: 4,
  sampleRate: 1,
});

/** {@link HotKeyDetectorOptions} after defaults and validation. */
export interface ResolvedHotKeyDetectorOptions {
  readonly windowMs: number;
  readonly topK: number;
  readonly threshold: number;
  readonly coolThreshold: number;
  readonly width: number;
  readonly depth: number;
  readonly candidateCapacity: number;
  readonly sampleRate: number;
  readonly clock: Clock;
  readonly random: Random;
  readonly onListenerError: ((error: unknown) => void) | undefined;
}

/**
 * Merges `options` with {@link DEFAULT_HOT_KEY_DETECTOR_OPTIONS} and validates them.
 * @throws InvalidOptionError (`E_INVALID_OPTION`) naming the first bad option.
 */
export function resolveHotKeyDetectorOptions(
  options: HotKeyDetectorOptions = {},
): ResolvedHotKeyDetectorOptions {
  const d = DEFAULT_HOT_KEY_DETECTOR_OPTIONS;
  const windowMs = options.windowMs ?? d.windowMs;
  assertTtlMs(windowMs, 'windowMs', SCOPE);
  const topK = options.topK ?? d.topK;
  assertInteger(topK, 'topK', 1, SCOPE);
  const threshold = options.threshold ?? d.threshold;
  assertFiniteNumber(threshold, 'threshold', 0);
  const coolThreshold = options.coolThreshold ?? threshold / 2;
  assertFiniteNumber(coolThreshold, 'coolThreshold', 0, threshold);
  const widthIn = options.width ?? d.width;
  assertInteger(widthIn, 'width', 16, SCOPE);
  if (widthIn > 1 << 24) {
    throw new InvalidOptionError(`[dc:${SCOPE}] \`width\` must be at most ${1 << 24}, got ${widthIn}`);
  }
  const width = 2 ** Math.ceil(Math.log2(widthIn));
  const depth = options.depth ?? d.depth;
  assertInteger(depth, 'depth', 1, SCOPE);
  if (depth > 16) throw new InvalidOptionError(`[dc:${SCOPE}] \`depth\` must be at most 16, got ${depth}`);
  const candidateCapacity = options.candidateCapacity ?? Math.max(2 * topK, topK + 16);
  assertInteger(candidateCapacity, 'candidateCapacity', topK, SCOPE);
  const sampleRate = options.sampleRate ?? d.sampleRate;
  assertFiniteNumber(sampleRate, 'sampleRate', Number.MIN_VALUE, 1);
  const clock = options.clock ?? systemClock;
  assertClock(clock);
  const random = options.random ?? Math.random;
  assertFunction(random, 'random');
  if (options.onListenerError !== undefined) assertFunction(options.onListenerError, 'onListenerError');
  return {
    windowMs,
    topK,
    threshold,
    coolThreshold,
    width,
    depth,
    candidateCapacity,
    sampleRate,
    clock,
    random,
    onListenerError: options.onListenerError,
  };
}

/** One row of {@link HotKeyDetector.top}. */
export interface HotKeyEstimate {
  readonly key: string;
  /** Estimated decayed request count in the window (requests, sampling already scaled up). */
  readonly count: number;
  /** Estimated request rate (requests/s, this process). */
  readonly ratePerSec: number;
  /** Whether the key is currently marked hot. */
  readonly hot: boolean;
}

/** Payload of `hotkey:hot` and `hotkey:cool`. */
export interface HotKeyEvent {
  readonly key: string;
  /** Estimated rate (requests/s) when the change was decided. */
  readonly ratePerSec: number;
  /** Clock time of the change (epoch ms). */
  readonly at: number;
}

/** Events a {@link HotKeyDetector} emits. */
export type HotKeyEventName = 'hotkey:hot' | 'hotkey:cool';

/** Listener of a {@link HotKeyEventName}. */
export type HotKeyListener = (event: HotKeyEvent) => void;

/** A snapshot of a detector's counters. */
export interface HotKeyDetectorMetrics {
  /** `record` calls so far (counted or sampled out). */
  readonly records: number;
  /** Keys currently in the candidate table (<= `candidateCapacity`). */
  readonly trackedKeys: number;
  /** Keys currently hot (<= `topK`). */
  readonly hotKeys: readonly string[];
  /** The current top-K with rates. */
  readonly top: readonly HotKeyEstimate[];
  /** Times a key became hot / cooled down since creation. */
  readonly hotEvents: number;
  readonly coolEvents: number;
  /** Errors thrown by listeners (caught). */
  readonly listenerErrors: number;
  /** See {@link HotKeyDetector.stateBytes}. */
  readonly stateBytes: number;
}

/** Detects the keys that carry most of the recent traffic; see {@link createHotKeyDetector}. */
export interface HotKeyDetector {
  /** The options in effect. */
  readonly options: ResolvedHotKeyDetectorOptions;
  /**
   * Counts one request for `key`. Allocation-free and clock-free; may synchronously emit
   * `hotkey:hot` (a key crossing `threshold`) or `hotkey:cool` (a hot key pushed out of the table).
   * @throws InvalidKeyError when `key` is not a string.
   */
  record(key: string): void;
  /** True while `key` is marked hot (an O(1) lookup). */
  isHot(key: string): boolean;
  /** The `n` keys with the highest estimated rates, highest first. @default n = topK */
  top(n?: number): HotKeyEstimate[];
  /** Estimated rate of `key` (requests/s); 0 for a key the sketch has not seen. */
  estimateRate(key: string): number;
  /** Currently hot keys, in no particular order. */
  hotKeys(): string[];
  /** Subscribes to an event; returns the function that unsubscribes. */
  on(event: HotKeyEventName, listener: HotKeyListener): () => void;
  /**
   * Bytes of detector state: sketch + candidate arrays + tracked key characters (2 bytes each)
   * + {@link HOT_KEY_SLOT_OVERHEAD_BYTES} per tracked key. Bounded by
   * {@link hotKeyDetectorStateBound} whatever the number of distinct keys recorded.
   */
  stateBytes(): number;
  /** Counters for export. */
  metrics(): HotKeyDetectorMetrics;
  /** Stops the window timer. Further `record` calls are ignored. Idempotent. */
  close(): void;
}

/**
 * Upper bound of {@link HotKeyDetector.stateBytes} for the given options and longest key:
 * `depth * width * 8 + candidateCapacity * (8 + 1 + 8 + 2 * maxKeyLength + HOT_KEY_SLOT_OVERHEAD_BYTES)`.
 */
export function hotKeyDetectorStateBound(options: HotKeyDetectorOptions = {}, maxKeyLength = 1024): number {
  const o = resolveHotKeyDetectorOptions(options);
  return o.depth * o.width * 8 + o.candidateCapacity * (17 + 2 * maxKeyLength + HOT_KEY_SLOT_OVERHEAD_BYTES);
}

/**
 * Creates a hot-key detector (count-min sketch + candidate table, decaying window).
 * @throws InvalidOptionError for a bad option (`topK < 1`, a non-finite `threshold`, ...).
 */
export function createHotKeyDetector(options: HotKeyDetectorOptions = {}): HotKeyDetector {
  const resolved = resolveHotKeyDetectorOptions(options);
  const { windowMs, topK, threshold, coolThreshold, width, depth, candidateCapacity, clock } = resolved;
  const tickMs = windowMs / TICKS_PER_WINDOW;
  const mask = width - 1;
  const counts = new Float64Array(width * depth);
  const weight = 1 / resolved.sampleRate;
  const sampling = resolved.sampleRate < 1;
  // Sampling skips a geometric number of calls between counted ones: the same distribution as
  // an independent coin per call, but a skipped call costs only a decrement.
  const logSkip = Math.log1p(-Math.min(resolved.sampleRate, 1 - 1e-9));
  let sampler = (Math.floor(resolved.random() * 4294967295) | 1) >>> 0;

  const capacity = candidateCapacity;
  const keys: Array<string | undefined> = new Array(capacity).fill(undefined);
  const est = new Float64Array(capacity);
  const hot = new Uint8Array(capacity);
  const index = new Map<string, number>();
  let size = 0;
  let hotSize = 0;
  // A lower bound of est[0..size); exact right after a rescan. Candidates' estimates only grow
  // between ticks and a tick scales them all alike, so the bound stays valid until a rescan.
  let minVal = 0;
  let minIdx = 0;
  let minDirty = true;

  const startedAt = clock.now();
  let lastTickAt = startedAt;
  let ticks = 0;
  // Count that a key must reach to be promoted inside `record`; assumes the end of the current
  // tick (the largest denominator), so a key is never promoted early; ticks refine it.
  let hotCount = (threshold / 1000) * denominator(0, 1);
  // Calls before the current gap; the calls inside it are `gap - skip`.
  let records = 0;
  let gap = nextGap();
  let skip = gap;
  let hotEvents = 0;
  let coolEvents = 0;
  let listenerErrors = 0;
  let closed = false;
  const listeners: Record<HotKeyEventName, HotKeyListener[]> = { 'hotkey:hot': [], 'hotkey:cool': [] };
  let timer: TimerHandle | undefined = clock.setTimer(onTick, tickMs);

  /** Decayed weight (ms) a constant 1 request/ms stream would have after `k` ticks and `phase` of one. */
  function denominator(k: number, phase: number): number {
    return tickMs * ((DECAY * (1 - DECAY ** k)) / (1 - DECAY) + phase);
  }

  function currentDenominator(now: number): number {
    // In the very first tick a short elapsed time would inflate rates; count it as a full tick.
    const phase = ticks === 0 ? 1 : Math.min(1, Math.max(0, (now - lastTickAt) / tickMs));
    return denominator(ticks, phase);
  }

  function emit(name: HotKeyEventName, key: string, ratePerSec: number, at: number): void {
    const list = listeners[name];
    if (list.length === 0) return;
    const event: HotKeyEvent = { key, ratePerSec, at };
    for (const listener of list.slice()) {
      try {
        listener(event);
      } catch (error) {
        listenerErrors++;
        resolved.onListenerError?.(error);
      }
    }
  }

  function query(key: string): number {
    const h = hashKey(key);
    const step = (h >>> 16) | (h << 16) | 1;
    let idx = h;
    let min = Number.POSITIVE_INFINITY;
    for (let row = 0, base = 0; row < depth; row++, base += width) {
      const c = counts[base + (idx & mask)] as number;
      if (c < min) min = c;
      idx = (idx + step) | 0;
    }
    return min;
  }

  function rescanMin(): void {
    let m = Number.POSITIVE_INFINITY;
    let at = 0;
    for (let i = 0; i < size; i++) {
      const v = est[i] as number;
      if (v < m) {
        m = v;
        at = i;
      }
    }
    minVal = size === 0 ? 0 : m;
    minIdx = at;
    minDirty = false;
  }

  function makeHot(slot: number, rate: number, now: number): void {
    hot[slot] = 1;
    hotSize++;
    hotEvents++;
    emit('hotkey:hot', keys[slot] as string, rate, now);
  }

  function makeCool(slot: number, rate: number, now: number): void {
    hot[slot] = 0;
    hotSize--;
    coolEvents++;
    emit('hotkey:cool', keys[slot] as string, rate, now);
  }

  function admit(key: string, count: number): void {
    let slot: number;
    if (size < capacity) {
      slot = size++;
      if (size === capacity) minDirty = true;
    } else {
      if (minDirty) rescanMin();
      if (count <= minVal) return;
      slot = minIdx;
      const evicted = keys[slot] as string;
      index.delete(evicted);
      if (hot[slot] === 1) makeCool(slot, rateOf(est[slot] as number, clock.now()), clock.now());
      minDirty = true;
    }
    keys[slot] = key;
    est[slot] = count;
    hot[slot] = 0;
    index.set(key, slot);
    if (count >= hotCount && hotSize < topK) makeHot(slot, rateOf(count, clock.now()), clock.now());
  }

  function rateOf(count: number, now: number): number {
    return (count / currentDenominator(now)) * 1000;
  }

  // Kept tiny so that it inlines into the caller's read path: a sampled-out call costs a type
  // check, a decrement and a branch.
  function record(key: string): void {
    if (typeof key !== 'string') {
      throw new InvalidKeyError(`[dc:${SCOPE}] record() needs a string key, got ${typeof key}`);
    }
    if (--skip > 0) return;
    count(key);
  }

  /** Calls until the next counted one: 1 without sampling, else geometric with mean 1 / sampleRate. */
  function nextGap(): number {
    if (!sampling) return 1;
    sampler ^= sampler << 13;
    sampler ^= sampler >>> 17;
    sampler ^= sampler << 5;
    const u = ((sampler >>> 0) + 1) / 4294967297;
    return 1 + Math.floor(Math.log(u) / logSkip);
  }

  function count(key: string): void {
    records += gap;
    gap = nextGap();
    skip = gap;
    if (closed) return;
    const h = hashKey(key);
    const step = (h >>> 16) | (h << 16) | 1;
    let idx = h;
    let min = Number.POSITIVE_INFINITY;
    for (let row = 0, base = 0; row < depth; row++, base += width) {
      const c = counts[base + (idx & mask)] as number;
      if (c < min) min = c;
      idx = (idx + step) | 0;
    }
    const next = min + weight;
    idx = h;
    for (let row = 0, base = 0; row < depth; row++, base += width) {
      const j = base + (idx & mask);
      if ((counts[j] as number) < next) counts[j] = next;
      idx = (idx + step) | 0;
    }
    // Every tracked key's estimate is > minVal (see minVal), so this skips only untracked keys.
    if (size === capacity && next <= minVal) return;
    const slot = index.get(key);
    if (slot === undefined) {
      admit(key, next);
      return;
    }
    est[slot] = next;
    if (slot === minIdx) minDirty = true;
    if (hot[slot] === 0 && next >= hotCount && hotSize < topK) {
      const now = clock.now();
      makeHot(slot, rateOf(next, now), now);
    }
  }

  /** Tracked slots ordered by fresh sketch estimates, highest first. */
  function ranked(): Array<{ slot: number; count: number }> {
    const rows: Array<{ slot: number; count: number }> = [];
    for (let i = 0; i < size; i++) {
      const count = query(keys[i] as string);
      est[i] = count;
      rows.push({ slot: i, count });
    }
    minDirty = true;
    rows.sort((a, b) => b.count - a.count);
    return rows;
  }

  function evaluate(now: number): void {
    const denom = currentDenominator(now);
    const rows = ranked();
    const toCool: Array<{ slot: number; rate: number }> = [];
    const toHeat: Array<{ slot: number; rate: number }> = [];
    rows.forEach(({ slot, count }, rank) => {
      const rate = (count / denom) * 1000;
      if (hot[slot] === 1) {
        if (rank >= topK || rate < coolThreshold) toCool.push({ slot, rate });
      } else if (rank < topK && rate >= threshold) {
        toHeat.push({ slot, rate });
      }
    });
    for (const { slot, rate } of toCool) makeCool(slot, rate, now);
    for (const { slot, rate } of toHeat) if (hotSize < topK) makeHot(slot, rate, now);
  }

  function onTick(): void {
    timer = undefined;
    if (closed) return;
    const now = clock.now();
    const elapsed = Math.floor((now - lastTickAt) / tickMs);
    if (elapsed >= 1) {
      const factor = DECAY ** elapsed;
      for (let i = 0; i < counts.length; i++) {
        const v = (counts[i] as number) * factor;
        counts[i] = v < ZERO_BELOW ? 0 : v;
      }
      for (let i = 0; i < size; i++) est[i] = (est[i] as number) * factor;
      minVal *= factor;
      ticks += elapsed;
      lastTickAt += elapsed * tickMs;
      hotCount = (threshold / 1000) * denominator(ticks, 1);
      evaluate(now);
    }
    timer = clock.setTimer(onTick, Math.max(1, lastTickAt + tickMs - now));
  }

  function top(n: number = topK): HotKeyEstimate[] {
    assertInteger(n, 'n', 0, SCOPE);
    const denom = currentDenominator(clock.now());
    return ranked()
      .slice(0, n)
      .map(({ slot, count }) => ({
        key: keys[slot] as string,
        count,
        ratePerSec: (count / denom) * 1000,
        hot: hot[slot] === 1,
      }));
  }

  function hotKeys(): string[] {
    const out: string[] = [];
    for (let i = 0; i < size; i++) if (hot[i] === 1) out.push(keys[i] as string);
    return out;
  }

  function stateBytes(): number {
    let chars = 0;
    for (let i = 0; i < size; i++) chars += (keys[i] as string).length;
    return (
      counts.byteLength +
      est.byteLength +
      hot.byteLength +
      capacity * 8 +
      2 * chars +
      size * HOT_KEY_SLOT_OVERHEAD_BYTES
    );
  }

  return {
    options: resolved,
    record,
    isHot(key) {
      const slot = index.get(key);
      return slot !== undefined && hot[slot] === 1;
    },
    top,
    estimateRate(key) {
      if (typeof key !== 'string') {
        throw new InvalidKeyError(`[dc:${SCOPE}] estimateRate() needs a string key, got ${typeof key}`);
      }
      return rateOf(query(key), clock.now());
    },
    hotKeys,
    on(event, listener) {
      if (event !== 'hotkey:hot' && event !== 'hotkey:cool') {
        throw new InvalidOptionError(
          `[dc:${SCOPE}] unknown event ${JSON.stringify(event)}; use 'hotkey:hot' or 'hotkey:cool'`,
        );
      }
      assertFunction(listener, 'listener');
      listeners[event].push(listener);
      return () => {
        const list = listeners[event];
        const at = list.indexOf(listener);
        if (at >= 0) list.splice(at, 1);
      };
    },
    stateBytes,
    metrics() {
      return {
        records: records + (gap - skip),
        trackedKeys: size,
        hotKeys: hotKeys(),
        top: top(),
        hotEvents,
        coolEvents,
        listenerErrors,
        stateBytes: stateBytes(),
      };
    },
    close() {
      closed = true;
      timer?.cancel();
      timer = undefined;
    },
  };
}
