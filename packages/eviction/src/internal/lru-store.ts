import type { ResolvedMemoryStoreOptions } from '../options';
import type { SetOptions } from '../types';
import { BaseStore } from './base-store';

/**
 * Exact LRU: an intrusive doubly linked list over slot indices (`Int32Array` next/prev), most
 * recent at `head`. Every operation is O(1) and a hit allocates nothing.
 */
export class LruStore<V> extends BaseStore<V> {
  protected next: Int32Array;
  protected prev: Int32Array;
  protected head = -1;
  protected tail = -1;

  constructor(options: ResolvedMemoryStoreOptions<V>) {
    super(options);
    this.next = new Int32Array(this.capacity);
    this.prev = new Int32Array(this.capacity);
  }

  // The hot path: entries without a TTL in an allkeys store take no branch beyond the move.
  override get(key: string): V | undefined {
    const slot = this.map.get(key);
    if (slot === undefined) {
      this.misses++;
      return undefined;
    }
    const exp = this.exp;
    if (exp !== null && exp[slot] !== 0) return this.getWithTtl(slot);
    if (slot !== this.head && this.allKeys) this.moveToHead(slot);
    this.hits++;
    return this.valList[slot];
  }

  private moveToHead(slot: number): void {
    const next = this.next;
    const prev = this.prev;
    const after = next[slot]!;
    const before = prev[slot]!;
    if (slot === this.tail) this.tail = before;
    else prev[after] = before;
    next[before] = after;
    next[slot] = this.head;
    prev[slot] = -1;
    prev[this.head] = slot;
    this.head = slot;
  }

  // Fast path for `set(key, value)` on a plain allkeys store: update in place, or recycle the
  // tail's slot for the newcomer. Anything with a TTL or options goes through the base.
  override set(key: string, value: V, options?: SetOptions): boolean {
    if (options !== undefined || !this.plainWrites || typeof key !== 'string') {
      return super.set(key, value, options);
    }
    let slot = this.map.get(key);
    const exp = this.exp;
    if (slot !== undefined) {
      if (exp !== null && exp[slot] !== 0) return super.set(key, value, options);
      this.valList[slot] = value;
      this.touch(slot);
      return true;
    }
    if (this.map.size < this.maxEntries) return super.set(key, value, options);
    slot = this.tail;
    if (exp !== null && exp[slot] !== 0) return super.set(key, value, options);
    const oldKey = this.keyList[slot] as string;
    const oldValue = this.valList[slot] as V;
    this.map.delete(oldKey);
    this.map.set(key, slot);
    this.keyList[slot] = key;
    this.valList[slot] = value;
    this.evictions++;
    this.touch(slot);
    if (this.evictListeners.length !== 0) this.emitEvict(oldKey, oldValue);
    return true;
  }

  protected link(slot: number): void {
    this.next[slot] = this.head;
    this.prev[slot] = -1;
    if (this.head === -1) this.tail = slot;
    else this.prev[this.head] = slot;
    this.head = slot;
  }

  protected unlink(slot: number): void {
    const after = this.next[slot]!;
    const before = this.prev[slot]!;
    if (before === -1) this.head = after;
    else this.next[before] = after;
    if (after === -1) this.tail = before;
    else this.prev[after] = before;
  }

  protected touch(slot: number): void {
    if (slot !== this.head) this.moveToHead(slot);
  }

  protected victim(exclude: number): number {
    const tail = this.tail;
    return tail === exclude && tail !== -1 ? this.prev[tail]! : tail;
  }

  protected resetPolicy(): void {
    this.head = -1;
    this.tail = -1;
  }

  protected growPolicy(capacity: number): void {
    const next = new Int32Array(capacity);
    next.set(this.next);
    this.next = next;
    const prev = new Int32Array(capacity);
    prev.set(this.prev);
    this.prev = prev;
  }
}
