/**
 * The engine shared by every policy: a key → slot index (a `Map`, or a null-prototype object with
 * `keyIndex: 'object'`) over struct-of-arrays slots (keys, values, typed arrays for expiry and
 * sizes), a dense index of the slots that have a TTL (for sampled active expiry, as Redis's
 * `activeExpireCycle`, and for the `volatile-*` modes), byte/entry budgets and events. A subclass
 * ranks the *candidates* — every entry in `allkeys-*` modes, only entries with a TTL in
 * `volatile-*` modes — through `link`/`unlink`/`touch`/`victim`.
 */
import type { Clock, Random, TimerHandle } from '@dc/core';
import { CapacityError, InvalidKeyError, InvalidOptionError } from '@dc/core';
import type { EvictionMode, EvictionPolicy, ResolvedMemoryStoreOptions } from '../options';
import type {
  EvictListener,
  EvictReason,
  ExpireListener,
  MemoryStore,
  MemoryStoreEvents,
  MemoryStoreStats,
  SetOptions,
} from '../types';
import type { KeyIndex } from './key-index';
import { ObjectIndex } from './key-index';

const SCOPE = '[dc:eviction]';
/** Stores up to this many slots allocate them all up front; larger ones start here and double. */
const PREALLOCATE_LIMIT = 1 << 16;
const INITIAL_CAPACITY = 1 << 10;

/** How a slot leaves the store; decides which event fires. */
export type Removal = 0 | 1 | 2 | 3;
const DELETE: Removal = 0;
const EVICT: Removal = 1;
const EXPIRE: Removal = 2;
/** Lost admission (W-TinyLFU): an `evict` event with reason `'admission'`. */
export const REJECT: Removal = 3;

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

export abstract class BaseStore<V> implements MemoryStore<V> {
  readonly policy: EvictionPolicy;
  readonly mode: EvictionMode;
  readonly maxEntries: number;
  readonly maxBytes: number;

  /** Key → slot. One kind per process keeps every call site on it monomorphic. */
  protected readonly map: KeyIndex;
  protected keyList: Array<string | undefined> = [];
  protected valList: Array<V | undefined> = [];
  /** Hard expiry per slot (0 = none); allocated on the first TTL. */
  protected exp: Float64Array | null = null;
  protected sizes: Float64Array | null = null;
  /** Dense list of slots with a TTL, and each slot's position in it (-1 = none). */
  protected ttlDense: Int32Array | null = null;
  protected ttlPos: Int32Array | null = null;
  protected ttlCount = 0;
  protected freeSlots: Int32Array;
  protected freeTop = 0;
  protected fill = 0;
  protected capacity: number;
  protected readonly slotLimit: number;

  /**
   * True when a plain `set(key, value)` needs no TTL, size or candidate bookkeeping (`allkeys-*`,
   * no `defaultTtlMs`, no `maxBytes`), so a policy may take its own fast path.
   */
  protected readonly plainWrites: boolean;
  /** True when every entry is a candidate (`allkeys-*`); false for `volatile-*`. */
  protected readonly allKeys: boolean;
  /** False only for `noeviction`. */
  protected readonly evicts: boolean;
  /** TinyLFU inserts first and lets admission pick the loser among the newcomer and the victim. */
  protected readonly admitAfterInsert: boolean;
  protected candidateCount = 0;
  protected candidateBytes = 0;
  protected totalBytes = 0;

  protected readonly clock: Clock;
  protected readonly random: Random;
  protected readonly sizeOf: ((value: V, key: string) => number) | undefined;
  protected readonly defaultTtlMs: number;

  /** Bumped by `clear()`, which ends running iterations. */
  private generation = 0;
  protected hits = 0;
  protected misses = 0;
  protected evictions = 0;
  protected expirations = 0;

  protected evictListeners: Array<EvictListener<V>> = [];
  private expireListeners: Array<ExpireListener<V>> = [];
  private listenerError: { error: unknown } | undefined;

  private timer: TimerHandle | undefined;
  private closed = false;
  private readonly activeExpiry: boolean;
  private readonly expiryIntervalMs: number;
  private readonly expirySampleSize: number;
  private readonly expiryMaxRounds: number;
  private readonly expiryCycleBudgetMs: number;
  private readonly runCycle = (): void => {
    this.timer = undefined;
    if (this.closed) return;
    this.runExpiryCycle();
    this.scheduleExpiry();
  };

  constructor(options: ResolvedMemoryStoreOptions<V>, admitAfterInsert = false) {
    this.map = options.keyIndex === 'object' ? new ObjectIndex() : new Map<string, number>();
    this.policy = options.policy;
    this.mode = options.mode;
    this.maxEntries = options.maxEntries;
    this.maxBytes = options.maxBytes;
    this.clock = options.clock;
    this.random = options.random;
    this.sizeOf = options.sizeOf;
    this.defaultTtlMs = options.defaultTtlMs;
    this.activeExpiry = options.activeExpiry;
    this.expiryIntervalMs = options.expiryIntervalMs;
    this.expirySampleSize = options.expirySampleSize;
    this.expiryMaxRounds = options.expiryMaxRounds;
    this.expiryCycleBudgetMs = options.expiryCycleBudgetMs;
    this.allKeys = options.mode.startsWith('allkeys');
    this.evicts = options.mode !== 'noeviction';
    this.admitAfterInsert = admitAfterInsert;
    this.plainWrites =
      this.allKeys && options.defaultTtlMs === 0 && options.maxBytes === Number.POSITIVE_INFINITY;
    // Insert-then-admit holds one entry over the budget for an instant.
    this.slotLimit = options.maxEntries + (admitAfterInsert ? 1 : 0);
    // Doubling stops at `slotLimit`, so a bounded store ends with no slack.
    this.capacity = this.slotLimit <= PREALLOCATE_LIMIT ? this.slotLimit : INITIAL_CAPACITY;
    this.keyList = new Array<string | undefined>(this.capacity).fill(undefined);
    this.valList = new Array<V | undefined>(this.capacity).fill(undefined);
    this.freeSlots = new Int32Array(this.capacity);
    if (options.maxBytes !== Number.POSITIVE_INFINITY) this.sizes = new Float64Array(this.capacity);
  }

  // ---- policy hooks -------------------------------------------------------------------------

  /** Starts ranking `slot` (a new candidate). */
  protected abstract link(slot: number): void;
  /** Stops ranking `slot`. */
  protected abstract unlink(slot: number): void;
  /** Records an access to a ranked `slot`. */
  protected abstract touch(slot: number): void;
  /** The next slot to evict, never `exclude`; -1 when no candidate is left. */
  protected abstract victim(exclude: number): number;
  /** Forgets every ranked slot. */
  protected abstract resetPolicy(): void;
  /** Grows the policy's per-slot arrays to `capacity`. */
  protected abstract growPolicy(capacity: number): void;

  // ---- reads --------------------------------------------------------------------------------

  get size(): number {
    return this.map.size;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  get(key: string): V | undefined {
    const slot = this.map.get(key);
    if (slot === undefined) {
      this.misses++;
      return undefined;
    }
    let ranked = this.allKeys;
    const exp = this.exp;
    if (exp !== null) {
      const expiresAt = exp[slot]!;
      if (expiresAt !== 0) {
        if (expiresAt <= this.clock.now()) {
          this.misses++;
          this.removeSlot(slot, EXPIRE);
          this.flushListenerError();
          return undefined;
        }
        ranked = this.evicts;
      }
    }
    if (ranked) this.touch(slot);
    this.hits++;
    return this.valList[slot];
  }

  peek(key: string): V | undefined {
    const slot = this.liveSlot(key);
    return slot === -1 ? undefined : this.valList[slot];
  }

  has(key: string): boolean {
    return this.liveSlot(key) !== -1;
  }

  getExpiresAt(key: string): number | undefined {
    const slot = this.liveSlot(key);
    if (slot === -1) return undefined;
    const expiresAt = this.exp === null ? 0 : this.exp[slot]!;
    return expiresAt === 0 ? Number.POSITIVE_INFINITY : expiresAt;
  }

  /** The slot of a live entry, or -1; removes the entry when it has expired. */
  protected liveSlot(key: string): number {
    const slot = this.map.get(key);
    if (slot === undefined) return -1;
    if (this.exp !== null) {
      const expiresAt = this.exp[slot]!;
      if (expiresAt !== 0 && expiresAt <= this.clock.now()) {
        this.removeSlot(slot, EXPIRE);
        this.flushListenerError();
        return -1;
      }
    }
    return slot;
  }

  *keys(): IterableIterator<string> {
    for (const [key] of this.entries()) yield key;
  }

  *values(): IterableIterator<V> {
    for (const [, value] of this.entries()) yield value;
  }

  // Ends once `clear()` runs: a `Map` iterator would go on to yield keys set after it.
  *entries(): IterableIterator<[string, V]> {
    const map = this.map;
    const generation = this.generation;
    for (const key of map.keys()) {
      if (this.generation !== generation) return;
      const slot = map.get(key);
      if (slot !== undefined && this.isLive(slot)) yield [key, this.valList[slot] as V];
    }
  }

  [Symbol.iterator](): IterableIterator<[string, V]> {
    return this.entries();
  }

  private isLive(slot: number): boolean {
    if (this.exp === null) return true;
    const expiresAt = this.exp[slot]!;
    return expiresAt === 0 || expiresAt > this.clock.now();
  }

  stats(): MemoryStoreStats {
    return {
      hits: this.hits,
      misses: this.misses,
      evictions: this.evictions,
      expirations: this.expirations,
    };
  }

  resetStats(): void {
    this.hits = 0;
    this.misses = 0;
    this.evictions = 0;
    this.expirations = 0;
  }

  // ---- writes -------------------------------------------------------------------------------

  set(key: string, value: V, options?: SetOptions): boolean {
    if (typeof key !== 'string') {
      throw new InvalidKeyError(`${SCOPE} a key must be a string, got ${describe(key)}`);
    }
    let expiresAt = 0;
    let size = 0;
    if (options !== undefined) {
      const { ttlMs, expiresAt: at } = options;
      if (ttlMs !== undefined) {
        if (at !== undefined) {
          throw new InvalidOptionError(`${SCOPE} pass \`ttlMs\` or \`expiresAt\`, not both`);
        }
        if (typeof ttlMs !== 'number' || !(ttlMs > 0) || ttlMs === Number.POSITIVE_INFINITY) {
          throw new InvalidOptionError(
            `${SCOPE} \`ttlMs\` must be a finite positive number of milliseconds, got ${describe(ttlMs)}`,
          );
        }
        expiresAt = this.clock.now() + ttlMs;
      } else if (at !== undefined) {
        if (typeof at !== 'number' || Number.isNaN(at)) {
          throw new InvalidOptionError(
            `${SCOPE} \`expiresAt\` must be an epoch-milliseconds number or Infinity, got ${describe(at)}`,
          );
        }
        if (at !== Number.POSITIVE_INFINITY) {
          if (at <= this.clock.now()) {
            this.delete(key);
            return false;
          }
          expiresAt = at;
        }
      } else if (this.defaultTtlMs !== 0) {
        expiresAt = this.clock.now() + this.defaultTtlMs;
      }
      if (this.sizes !== null) size = this.measure(value, key, options.size);
    } else {
      if (this.defaultTtlMs !== 0) expiresAt = this.clock.now() + this.defaultTtlMs;
      if (this.sizes !== null) size = this.measure(value, key, undefined);
    }
    const slot = this.map.get(key);
    const stored =
      slot === undefined
        ? this.insert(key, value, size, expiresAt)
        : this.update(slot, value, size, expiresAt);
    this.flushListenerError();
    return stored;
  }

  private measure(value: V, key: string, given: number | undefined): number {
    const size = given ?? (this.sizeOf === undefined ? 0 : this.sizeOf(value, key));
    if (typeof size !== 'number' || !Number.isFinite(size) || size < 0) {
      throw new InvalidOptionError(
        `${SCOPE} an entry size must be a finite number of bytes >= 0, got ${describe(size)} for key ${describe(key)}`,
      );
    }
    if (size > this.maxBytes) {
      throw new CapacityError(
        `${SCOPE} entry ${describe(key)} is ${size} bytes, more than \`maxBytes\` (${this.maxBytes}); it was not stored`,
      );
    }
    return size;
  }

  private insert(key: string, value: V, size: number, expiresAt: number): boolean {
    if (!this.admitAfterInsert) {
      const extraEntries = this.map.size + 1 - this.maxEntries;
      const extraBytes = this.totalBytes + size - this.maxBytes;
      if (extraEntries > 0 || extraBytes > 0) this.makeRoom(1, size, -1, key);
    }
    const slot = this.allocate();
    this.keyList[slot] = key;
    this.valList[slot] = value;
    this.map.set(key, slot);
    if (this.sizes !== null) {
      this.sizes[slot] = size;
      this.totalBytes += size;
    }
    if (expiresAt !== 0) this.addTtl(slot, expiresAt);
    if (this.evicts && (this.allKeys || expiresAt !== 0)) {
      this.candidateCount++;
      this.candidateBytes += size;
      this.link(slot);
    }
    if (this.admitAfterInsert && (this.map.size > this.maxEntries || this.totalBytes > this.maxBytes)) {
      this.evictUntilFits(0, 0, -1);
      this.endOfWrite();
      return this.map.get(key) === slot;
    }
    this.endOfWrite();
    return true;
  }

  /** Called once a write has finished evicting. */
  protected endOfWrite(): void {}

  private update(slot: number, value: V, size: number, expiresAt: number): boolean {
    const sizes = this.sizes;
    const oldSize = sizes === null ? 0 : sizes[slot]!;
    const oldExpiresAt = this.exp === null ? 0 : this.exp[slot]!;
    const wasRanked = this.evicts && (this.allKeys || oldExpiresAt !== 0);
    const willRank = this.evicts && (this.allKeys || expiresAt !== 0);
    if (this.totalBytes - oldSize + size > this.maxBytes) {
      this.makeRoom(0, size - oldSize, slot, this.keyList[slot] as string);
    }
    this.valList[slot] = value;
    if (sizes !== null) {
      sizes[slot] = size;
      this.totalBytes += size - oldSize;
    }
    if (expiresAt !== oldExpiresAt) {
      if (oldExpiresAt === 0) this.addTtl(slot, expiresAt);
      else if (expiresAt === 0) this.removeTtl(slot);
      else this.exp![slot] = expiresAt;
    }
    if (wasRanked) {
      this.candidateBytes -= oldSize;
      if (willRank) {
        this.candidateBytes += size;
        this.touch(slot);
      } else {
        this.candidateCount--;
        this.unlink(slot);
      }
    } else if (willRank) {
      this.candidateCount++;
      this.candidateBytes += size;
      this.link(slot);
    }
    return true;
  }

  /**
   * Frees room for `addEntries` more entries and `addBytes` more bytes without touching
   * `exclude`, or throws {@link CapacityError} having changed nothing.
   */
  private makeRoom(addEntries: number, addBytes: number, exclude: number, key: string): void {
    if (!this.fits(addEntries, addBytes, exclude)) {
      // Expired entries nobody reclaimed yet should not make a write fail.
      if (this.ttlCount > 0) this.purgeExpired();
      if (!this.fits(addEntries, addBytes, exclude)) {
        const reason = !this.evicts
          ? "`mode` is 'noeviction'"
          : `\`mode\` '${this.mode}' may only evict keys with a TTL and too few have one`;
        throw new CapacityError(
          `${SCOPE} the store is full (${this.map.size}/${this.maxEntries} entries, ${this.totalBytes}/${this.maxBytes} bytes) and ${reason}; write of ${describe(key)} refused`,
        );
      }
    }
    this.evictUntilFits(addEntries, addBytes, exclude);
  }

  /** True when evicting candidates other than `exclude` can make the write fit. */
  private fits(addEntries: number, addBytes: number, exclude: number): boolean {
    const needEntries = this.map.size + addEntries - this.maxEntries;
    const needBytes = this.totalBytes + addBytes - this.maxBytes;
    if (needEntries <= 0 && needBytes <= 0) return true;
    if (!this.evicts) return false;
    let count = this.candidateCount;
    let bytes = this.candidateBytes;
    if (exclude !== -1 && (this.allKeys || (this.exp !== null && this.exp[exclude] !== 0))) {
      count--;
      bytes -= this.sizes === null ? 0 : this.sizes[exclude]!;
    }
    return count >= needEntries && bytes >= needBytes;
  }

  private evictUntilFits(addEntries: number, addBytes: number, exclude: number): void {
    const exp = this.exp;
    let now = -1;
    while (this.map.size + addEntries > this.maxEntries || this.totalBytes + addBytes > this.maxBytes) {
      const slot = this.victim(exclude);
      if (slot < 0) break;
      let how = addEntries === 0 && addBytes === 0 && this.admitAfterInsert ? REJECT : EVICT;
      if (exp !== null && exp[slot] !== 0) {
        if (now === -1) now = this.clock.now();
        if (exp[slot]! <= now) how = EXPIRE;
      }
      this.removeSlot(slot, how);
    }
  }

  delete(key: string): boolean {
    const slot = this.map.get(key);
    if (slot === undefined) return false;
    const live = this.isLive(slot);
    this.removeSlot(slot, live ? DELETE : EXPIRE);
    this.flushListenerError();
    return live;
  }

  clear(): void {
    this.generation++;
    this.map.clear();
    this.keyList.fill(undefined);
    this.valList.fill(undefined);
    this.fill = 0;
    this.freeTop = 0;
    if (this.exp !== null) this.exp.fill(0);
    if (this.ttlPos !== null) this.ttlPos.fill(-1);
    if (this.sizes !== null) this.sizes.fill(0);
    this.ttlCount = 0;
    this.totalBytes = 0;
    this.candidateCount = 0;
    this.candidateBytes = 0;
    this.resetPolicy();
  }

  close(): void {
    this.closed = true;
    this.timer?.cancel();
    this.timer = undefined;
    this.clear();
  }

  /** Emits `'evict'` (reason `capacity`) for an entry a fast path already removed. */
  protected emitEvict(key: string, value: V): void {
    for (const listener of this.evictListeners) {
      try {
        listener(key, value, 'capacity');
      } catch (error) {
        this.listenerError ??= { error };
      }
    }
    this.flushListenerError();
  }

  /**
   * A policy's `get` for a found entry that has a TTL: a miss (and removed) once expired,
   * otherwise ranked by the policy's `touch` and counted as a hit.
   */
  protected getWithTtl(slot: number): V | undefined {
    if (this.exp![slot]! <= this.clock.now()) {
      this.expireSlot(slot);
      return undefined;
    }
    this.touch(slot);
    this.hits++;
    return this.valList[slot];
  }

  /** Removes an expired `slot` found by a read (emits `'expire'`). */
  protected expireSlot(slot: number): void {
    this.misses++;
    this.removeSlot(slot, EXPIRE);
    this.flushListenerError();
  }

  /** Removes `slot` everywhere and emits the event `how` calls for. */
  protected removeSlot(slot: number, how: Removal): void {
    const key = this.keyList[slot] as string;
    const value = this.valList[slot] as V;
    const exp = this.exp;
    const expiresAt = exp === null ? 0 : exp[slot]!;
    const size = this.sizes === null ? 0 : this.sizes[slot]!;
    this.map.delete(key);
    if (this.evicts && (this.allKeys || expiresAt !== 0)) {
      this.candidateCount--;
      this.candidateBytes -= size;
      this.unlink(slot);
    }
    if (expiresAt !== 0) this.removeTtl(slot);
    if (this.sizes !== null) {
      this.totalBytes -= size;
      this.sizes[slot] = 0;
    }
    this.keyList[slot] = undefined;
    this.valList[slot] = undefined;
    this.freeSlots[this.freeTop++] = slot;
    if (how === EVICT || how === REJECT) {
      this.evictions++;
      const listeners = this.evictListeners;
      if (listeners.length !== 0) {
        const reason: EvictReason = how === REJECT ? 'admission' : 'capacity';
        for (const listener of listeners) {
          try {
            listener(key, value, reason);
          } catch (error) {
            this.listenerError ??= { error };
          }
        }
      }
    } else if (how === EXPIRE) {
      this.expirations++;
      const listeners = this.expireListeners;
      for (const listener of listeners) {
        try {
          listener(key, value, expiresAt);
        } catch (error) {
          this.listenerError ??= { error };
        }
      }
    }
  }

  /** Rethrows the first listener error of the operation, once the store is consistent again. */
  protected flushListenerError(): void {
    const pending = this.listenerError;
    if (pending !== undefined) {
      this.listenerError = undefined;
      throw pending.error;
    }
  }

  private allocate(): number {
    if (this.freeTop > 0) return this.freeSlots[--this.freeTop]!;
    if (this.fill === this.capacity) this.grow();
    return this.fill++;
  }

  private grow(): void {
    const capacity = Math.min(this.slotLimit, this.capacity * 2);
    const growF64 = (a: Float64Array | null) => {
      if (a === null) return null;
      const b = new Float64Array(capacity);
      b.set(a);
      return b;
    };
    const free = new Int32Array(capacity);
    free.set(this.freeSlots);
    // Exact-size copies: growing by push would leave V8's 1.5x backing-store slack behind.
    const keyList = new Array<string | undefined>(capacity).fill(undefined);
    const valList = new Array<V | undefined>(capacity).fill(undefined);
    for (let i = 0; i < this.capacity; i++) {
      keyList[i] = this.keyList[i];
      valList[i] = this.valList[i];
    }
    this.keyList = keyList;
    this.valList = valList;
    this.freeSlots = free;
    this.exp = growF64(this.exp);
    this.sizes = growF64(this.sizes);
    if (this.ttlPos !== null && this.ttlDense !== null) {
      const pos = new Int32Array(capacity).fill(-1);
      pos.set(this.ttlPos);
      this.ttlPos = pos;
      const dense = new Int32Array(capacity);
      dense.set(this.ttlDense);
      this.ttlDense = dense;
    }
    this.capacity = capacity;
    this.growPolicy(capacity);
  }

  // ---- expiry -------------------------------------------------------------------------------

  private addTtl(slot: number, expiresAt: number): void {
    if (this.exp === null) {
      this.exp = new Float64Array(this.capacity);
      this.ttlPos = new Int32Array(this.capacity).fill(-1);
      this.ttlDense = new Int32Array(this.capacity);
    }
    this.exp[slot] = expiresAt;
    this.ttlPos![slot] = this.ttlCount;
    this.ttlDense![this.ttlCount++] = slot;
    if (this.timer === undefined) this.scheduleExpiry();
  }

  private removeTtl(slot: number): void {
    const pos = this.ttlPos!;
    const dense = this.ttlDense!;
    const at = pos[slot]!;
    const last = dense[--this.ttlCount]!;
    dense[at] = last;
    pos[last] = at;
    pos[slot] = -1;
    this.exp![slot] = 0;
  }

  private scheduleExpiry(): void {
    if (this.closed || !this.activeExpiry || this.timer !== undefined || this.ttlCount === 0) return;
    this.timer = this.clock.setTimer(this.runCycle, this.expiryIntervalMs);
  }

  runExpiryCycle(): number {
    const exp = this.exp;
    const dense = this.ttlDense;
    if (exp === null || dense === null) return 0;
    const now = this.clock.now();
    const started = performance.now();
    let removed = 0;
    for (let round = 0; round < this.expiryMaxRounds && this.ttlCount > 0; round++) {
      const sample = Math.min(this.expirySampleSize, this.ttlCount);
      let expired = 0;
      for (let i = 0; i < sample && this.ttlCount > 0; i++) {
        const slot = dense[Math.floor(this.random() * this.ttlCount)]!;
        if (exp[slot]! <= now) {
          this.removeSlot(slot, EXPIRE);
          expired++;
        }
      }
      removed += expired;
      // Redis keeps going only while the sample says more than a quarter of the keys are stale.
      if (expired * 4 <= sample || performance.now() - started >= this.expiryCycleBudgetMs) break;
    }
    this.flushListenerError();
    return removed;
  }

  purgeExpired(): number {
    const exp = this.exp;
    const dense = this.ttlDense;
    if (exp === null || dense === null) return 0;
    const now = this.clock.now();
    let removed = 0;
    for (let i = this.ttlCount - 1; i >= 0; i--) {
      if (i >= this.ttlCount) continue;
      const slot = dense[i]!;
      if (exp[slot]! <= now) {
        this.removeSlot(slot, EXPIRE);
        removed++;
      }
    }
    this.flushListenerError();
    return removed;
  }

  // ---- events -------------------------------------------------------------------------------

  on<E extends keyof MemoryStoreEvents<V>>(event: E, listener: MemoryStoreEvents<V>[E]): () => void {
    if (typeof listener !== 'function') {
      throw new InvalidOptionError(`${SCOPE} a listener must be a function, got ${describe(listener)}`);
    }
    if (event === 'evict') {
      const fn = listener as EvictListener<V>;
      this.evictListeners = [...this.evictListeners, fn];
      return () => {
        this.evictListeners = this.evictListeners.filter((l) => l !== fn);
      };
    }
    if (event === 'expire') {
      const fn = listener as ExpireListener<V>;
      this.expireListeners = [...this.expireListeners, fn];
      return () => {
        this.expireListeners = this.expireListeners.filter((l) => l !== fn);
      };
    }
    throw new InvalidOptionError(`${SCOPE} unknown event ${describe(event)}; use 'evict' or 'expire'`);
  }
}
