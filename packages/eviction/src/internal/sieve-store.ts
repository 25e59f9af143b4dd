import type { ResolvedMemoryStoreOptions } from '../options';
import type { SetOptions } from '../types';
import { BaseStore } from './base-store';

/**
 * SIEVE (Zhang et al., NSDI '24): one FIFO queue (new entries at `head`), a visited bit per
 * entry, and a hand that walks from the tail towards the head. A hit only sets the bit; the
 * hand clears set bits as it passes and evicts the first entry whose bit is clear, so hot
 * entries stay in place instead of being moved on every hit.
 */
export class SieveStore<V> extends BaseStore<V> {
  private next: Int32Array;
  private prev: Int32Array;
  private visited: Uint8Array;
  private head = -1;
  private tail = -1;
  private hand = -1;

  constructor(options: ResolvedMemoryStoreOptions<V>) {
    super(options);
    this.next = new Int32Array(this.capacity);
    this.prev = new Int32Array(this.capacity);
    this.visited = new Uint8Array(this.capacity);
  }

  override get(key: string): V | undefined {
    const slot = this.map.get(key);
    if (slot === undefined) {
      this.misses++;
      return undefined;
    }
    const exp = this.exp;
    if (exp !== null) {
      const expiresAt = exp[slot]!;
      if (expiresAt !== 0 && expiresAt <= this.clock.now()) {
        this.expireSlot(slot);
        return undefined;
      }
    }
    // Setting the bit on an entry the policy does not rank (volatile mode, no TTL) is harmless:
    // `link` clears it.
    this.visited[slot] = 1;
    this.hits++;
    return this.valList[slot];
  }

  // Fast path for `set(key, value)` on a plain allkeys store: update in place (counts as a
  // visit), or let the hand pick a victim and reuse its slot at the head.
  override set(key: string, value: V, options?: SetOptions): boolean {
    if (options !== undefined || !this.plainWrites || typeof key !== 'string') {
      return super.set(key, value, options);
    }
    let slot = this.map.get(key);
    const exp = this.exp;
    if (slot !== undefined) {
      if (exp !== null && exp[slot] !== 0) return super.set(key, value, options);
      this.valList[slot] = value;
      this.visited[slot] = 1;
      return true;
    }
    if (this.map.size < this.maxEntries || exp !== null) return super.set(key, value, options);
    slot = this.victim(-1);
    const oldKey = this.keyList[slot] as string;
    const oldValue = this.valList[slot] as V;
    this.unlink(slot);
    this.map.delete(oldKey);
    this.map.set(key, slot);
    this.keyList[slot] = key;
    this.valList[slot] = value;
    this.evictions++;
    this.link(slot);
    if (this.evictListeners.length !== 0) this.emitEvict(oldKey, oldValue);
    return true;
  }

  protected link(slot: number): void {
    this.visited[slot] = 0;
    this.next[slot] = this.head;
    this.prev[slot] = -1;
    if (this.head === -1) this.tail = slot;
    else this.prev[this.head] = slot;
    this.head = slot;
  }

  protected unlink(slot: number): void {
    const after = this.next[slot]!;
    const before = this.prev[slot]!;
    if (this.hand === slot) this.hand = before;
    if (before === -1) this.head = after;
    else this.next[before] = after;
    if (after === -1) this.tail = before;
    else this.prev[after] = before;
    this.visited[slot] = 0;
  }

  protected touch(slot: number): void {
    this.visited[slot] = 1;
  }

  protected victim(exclude: number): number {
    const prev = this.prev;
    const visited = this.visited;
    let hand = this.hand === -1 ? this.tail : this.hand;
    // Two passes clear every bit, so a third visit must find a victim unless only `exclude` is left.
    for (let steps = 2 * this.candidateCount + 2; steps > 0; steps--) {
      if (hand === -1) {
        hand = this.tail;
        if (hand === -1) break;
      }
      if (hand !== exclude) {
        if (visited[hand] === 0) {
          this.hand = hand;
          return hand;
        }
        visited[hand] = 0;
      }
      hand = prev[hand]!;
    }
    this.hand = hand;
    return -1;
  }

  protected resetPolicy(): void {
    this.head = -1;
    this.tail = -1;
    this.hand = -1;
    this.visited.fill(0);
  }

  protected growPolicy(capacity: number): void {
    const next = new Int32Array(capacity);
    next.set(this.next);
    this.next = next;
    const prev = new Int32Array(capacity);
    prev.set(this.prev);
    this.prev = prev;
    const visited = new Uint8Array(capacity);
    visited.set(this.visited);
    this.visited = visited;
  }
}
