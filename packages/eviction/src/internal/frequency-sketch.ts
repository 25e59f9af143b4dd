/**
 * A 4-bit count-min sketch laid out as Caffeine's current `FrequencySketch`: the table is split
 * into 64-byte blocks (eight 64-bit rows, here sixteen `Uint32` words of eight counters); an
 * item hashes to one block, and each of its four counters sits in its own pair of rows within
 * that block, so an update touches one cache line. Every counter is halved ("reset") after
 * `sampleSize` (10 x capacity, the capacity at least 128) increments, so old popularity fades.
 *
 * Items are *spread* hashes ({@link spreadHash} of {@link hashKey}): the store computes one per
 * entry when it is added and keeps it, so a hit updates the counters without hashing anything.
 *
 * Increments are queued and applied in order, a batch at a time, before the next
 * {@link frequency} or when the queue is full (as Caffeine drains its read buffer): the counts a
 * query sees, and when the halvings happen, are exactly those of applying each increment at once,
 * but a hit only appends to the queue, and the batch's table updates — independent random
 * accesses in a short loop — overlap their cache misses.
 */
export class FrequencySketch {
  private readonly table: Uint32Array;
  private readonly blockMask: number;
  readonly sampleSize: number;
  private additions = 0;
  private readonly pending = new Int32Array(PENDING_LIMIT);
  private pendingCount = 0;

  constructor(capacity: number) {
    // Small caches get the sketch of a 128-entry one (as transitory): with 10 x 20 counts
    // between halvings, a 20-entry cache forgot a key's popularity before it came back.
    const width = Math.max(capacity, MINIMUM_CAPACITY);
    // One 64-bit row (16 counters) per entry, as Caffeine, and at least one block.
    let rows = 8;
    while (rows < width) rows *= 2;
    this.table = new Uint32Array(rows * 2);
    this.blockMask = (rows >>> 3) - 1;
    this.sampleSize = 10 * width;
  }

  /** Counts one more occurrence of `item`; halves every counter every `sampleSize` counts. */
  increment(item: number): void {
    const count = this.pendingCount;
    this.pending[count] = item;
    this.pendingCount = count + 1;
    if (count + 1 === PENDING_LIMIT) this.applyPending();
  }

  private applyPending(): void {
    const pending = this.pending;
    const count = this.pendingCount;
    this.pendingCount = 0;
    for (let i = 0; i < count; i++) this.add(pending[i]!);
  }

  private add(item: number): void {
    const table = this.table;
    const block = (item & this.blockMask) << 4;
    const h = rehash(item);
    // Each byte of `h` picks one counter: bit 0 the row pair, bit 4 the word, bits 1-3 the nibble.
    // The four words are distinct (one per quarter of the block), so they are read and written
    // once each, straight through locals, with the saturation test folded into the add.
    const w0 = block + ((h & 1) << 1) + ((h >>> 4) & 1);
    const w1 = block + 4 + (((h >>> 8) & 1) << 1) + ((h >>> 12) & 1);
    const w2 = block + 8 + (((h >>> 16) & 1) << 1) + ((h >>> 20) & 1);
    const w3 = block + 12 + (((h >>> 24) & 1) << 1) + ((h >>> 28) & 1);
    const s0 = (h & 14) << 1;
    const s1 = ((h >>> 8) & 14) << 1;
    const s2 = ((h >>> 16) & 14) << 1;
    const s3 = ((h >>> 24) & 14) << 1;
    const v0 = table[w0]!;
    const v1 = table[w1]!;
    const v2 = table[w2]!;
    const v3 = table[w3]!;
    const a0 = ((v0 >>> s0) & 15) !== 15 ? 1 : 0;
    const a1 = ((v1 >>> s1) & 15) !== 15 ? 1 : 0;
    const a2 = ((v2 >>> s2) & 15) !== 15 ? 1 : 0;
    const a3 = ((v3 >>> s3) & 15) !== 15 ? 1 : 0;
    table[w0] = v0 + (a0 << s0);
    table[w1] = v1 + (a1 << s1);
    table[w2] = v2 + (a2 << s2);
    table[w3] = v3 + (a3 << s3);
    if ((a0 | a1 | a2 | a3) !== 0 && ++this.additions === this.sampleSize) this.reset();
  }

  /** The estimated count of `item` (0..15). */
  frequency(item: number): number {
    if (this.pendingCount !== 0) this.applyPending();
    const table = this.table;
    const block = (item & this.blockMask) << 4;
    const h = rehash(item);
    const a = count(table, block + ((h & 1) << 1) + ((h >>> 4) & 1), (h & 14) << 1);
    const b = count(table, block + 4 + (((h >>> 8) & 1) << 1) + ((h >>> 12) & 1), ((h >>> 8) & 14) << 1);
    const c = count(table, block + 8 + (((h >>> 16) & 1) << 1) + ((h >>> 20) & 1), ((h >>> 16) & 14) << 1);
    const d = count(table, block + 12 + (((h >>> 24) & 1) << 1) + ((h >>> 28) & 1), ((h >>> 24) & 14) << 1);
    return Math.min(a, b, c, d);
  }

  private reset(): void {
    const table = this.table;
    let odd = 0;
    // One block (16 words) at a time: its low counter bits are summed per nibble in `lows`
    // (at most 16, so the nibbles are widened to bytes halfway), then added up once per block.
    for (let i = 0; i < table.length; i += 16) {
      let lows = 0;
      let wide = 0;
      for (let j = i; j < i + 16; j++) {
        const value = table[j]!;
        lows += value & 0x11111111;
        table[j] = (value >>> 1) & 0x77777777;
        if ((j & 7) === 7) {
          wide += (lows & 0x0f0f0f0f) + ((lows >>> 4) & 0x0f0f0f0f);
          lows = 0;
        }
      }
      odd += Math.imul(wide, 0x01010101) >>> 24;
    }
    // Halving rounds odd counters down; as Caffeine, take that loss (a quarter of the odd
    // counters, four per item) off the count before halving it.
    this.additions = (this.additions - (odd >>> 2)) >>> 1;
  }

  clear(): void {
    this.pendingCount = 0;
    this.table.fill(0);
    this.additions = 0;
  }
}

const MINIMUM_CAPACITY = 128;
/** Queued increments before they are applied: 1 KiB, a handful of cache lines. */
const PENDING_LIMIT = 256;

function count(table: Uint32Array, word: number, shift: number): number {
  return (table[word]! >>> shift) & 15;
}

/** Caffeine's `spread`: mixes a key hash into the item the sketch indexes by. */
export function spreadHash(x: number): number {
  x = Math.imul(x ^ (x >>> 17), 0xed5ad4bb);
  x = Math.imul(x ^ (x >>> 11), 0xac4c1b51);
  x = Math.imul(x ^ (x >>> 15), 0x31848bab);
  return x ^ (x >>> 14);
}

/** Caffeine's `rehash`: a second mix whose four bytes pick the four counters. */
function rehash(x: number): number {
  x = Math.imul(x, 0x31848bab);
  return x ^ (x >>> 14);
}

/** FNV-1a over the UTF-16 code units of `key`, then a final avalanche. */
export function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}
