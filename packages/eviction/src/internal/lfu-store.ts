import type { ResolvedMemoryStoreOptions } from '../options';
import { BaseStore } from './base-store';

/**
 * Exact LFU in O(1) (Shah, Mitra & Matani, 2010): a list of frequency buckets in ascending
 * order, each holding its entries in an LRU list (most recent first). An access moves the entry
 * to the bucket of frequency + 1; the victim is the least recently used entry of the lowest
 * bucket, so ties break by recency. Buckets live in a pool of parallel typed arrays.
 */
export class LfuStore<V> extends BaseStore<V> {
  private next: Int32Array;
  private prev: Int32Array;
  private bucketOf: Int32Array;
  // Bucket pool: at most one bucket per ranked entry.
  private bFreq: Float64Array;
  private bHead: Int32Array;
  private bTail: Int32Array;
  private bNext: Int32Array;
  private bPrev: Int32Array;
  private bFree: Int32Array;
  private bFreeTop = 0;
  private bFill = 0;
  private first = -1;

  constructor(options: ResolvedMemoryStoreOptions<V>) {
    super(options);
    const n = this.capacity;
    this.next = new Int32Array(n);
    this.prev = new Int32Array(n);
    this.bucketOf = new Int32Array(n);
    // One spare bucket: `touch` creates the next bucket before it may drop the old one.
    this.bFreq = new Float64Array(n + 1);
    this.bHead = new Int32Array(n + 1);
    this.bTail = new Int32Array(n + 1);
    this.bNext = new Int32Array(n + 1);
    this.bPrev = new Int32Array(n + 1);
    this.bFree = new Int32Array(n + 1);
  }

  // Own copy of the base `get`, so its call to `touch` only ever sees this class.
  override get(key: string): V | undefined {
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
          this.expireSlot(slot);
          return undefined;
        }
        ranked = true;
      }
    }
    if (ranked) this.touch(slot);
    this.hits++;
    return this.valList[slot];
  }

  private newBucket(freq: number, after: number): number {
    const b = this.bFreeTop > 0 ? this.bFree[--this.bFreeTop]! : this.bFill++;
    this.bFreq[b] = freq;
    this.bHead[b] = -1;
    this.bTail[b] = -1;
    this.bPrev[b] = after;
    const following = after === -1 ? this.first : this.bNext[after]!;
    this.bNext[b] = following;
    if (following !== -1) this.bPrev[following] = b;
    if (after === -1) this.first = b;
    else this.bNext[after] = b;
    return b;
  }

  private dropBucket(b: number): void {
    const before = this.bPrev[b]!;
    const after = this.bNext[b]!;
    if (before === -1) this.first = after;
    else this.bNext[before] = after;
    if (after !== -1) this.bPrev[after] = before;
    this.bFree[this.bFreeTop++] = b;
  }

  private pushFront(slot: number, b: number): void {
    const head = this.bHead[b]!;
    this.next[slot] = head;
    this.prev[slot] = -1;
    if (head === -1) this.bTail[b] = slot;
    else this.prev[head] = slot;
    this.bHead[b] = slot;
    this.bucketOf[slot] = b;
  }

  /** Detaches `slot` from its bucket's list; returns true when the bucket became empty. */
  private detach(slot: number, b: number): boolean {
    const after = this.next[slot]!;
    const before = this.prev[slot]!;
    if (before === -1) this.bHead[b] = after;
    else this.next[before] = after;
    if (after === -1) this.bTail[b] = before;
    else this.prev[after] = before;
    return this.bHead[b] === -1;
  }

  protected link(slot: number): void {
    const b = this.first !== -1 && this.bFreq[this.first] === 1 ? this.first : this.newBucket(1, -1);
    this.pushFront(slot, b);
  }

  protected unlink(slot: number): void {
    const b = this.bucketOf[slot]!;
    if (this.detach(slot, b)) this.dropBucket(b);
  }

  protected touch(slot: number): void {
    const b = this.bucketOf[slot]!;
    const freq = this.bFreq[b]! + 1;
    let target = this.bNext[b]!;
    if (target === -1 || this.bFreq[target] !== freq) target = this.newBucket(freq, b);
    if (this.detach(slot, b)) this.dropBucket(b);
    this.pushFront(slot, target);
  }

  protected victim(exclude: number): number {
    for (let b = this.first; b !== -1; b = this.bNext[b]!) {
      const tail = this.bTail[b]!;
      if (tail !== exclude) return tail;
      const before = this.prev[tail]!;
      if (before !== -1) return before;
    }
    return -1;
  }

  /** The exact access count of a ranked key (1 after insert), for tests and diagnostics. */
  frequencyOf(key: string): number | undefined {
    const slot = this.map.get(key);
    if (slot === undefined) return undefined;
    return this.bFreq[this.bucketOf[slot]!];
  }

  protected resetPolicy(): void {
    this.first = -1;
    this.bFill = 0;
    this.bFreeTop = 0;
  }

  protected growPolicy(capacity: number): void {
    const grow32 = (a: Int32Array, extra = 1) => {
      const b = new Int32Array(capacity + extra);
      b.set(a);
      return b;
    };
    this.next = grow32(this.next, 0);
    this.prev = grow32(this.prev, 0);
    this.bucketOf = grow32(this.bucketOf, 0);
    this.bHead = grow32(this.bHead);
    this.bTail = grow32(this.bTail);
    this.bNext = grow32(this.bNext);
    this.bPrev = grow32(this.bPrev);
    this.bFree = grow32(this.bFree);
    const freq = new Float64Array(capacity + 1);
    freq.set(this.bFreq);
    this.bFreq = freq;
  }
}
