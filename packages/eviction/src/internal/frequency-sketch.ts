/**
 * A 4-bit count-min sketch laid out as Caffeine's current `FrequencySketch`: the table is split
 * into 64-byte blocks (eight 64-bit rows, here sixteen `Uint32` words of eight counters); an
 * item hashes to one block, and each of its four counters sits in its own pair of rows within
 * that block, so an update touches one cache line. Every counter is halved ("reset") after
 * `sampleSize` (10 x capacity) increments, so old popularity fades. Items are 32-bit hashes
 * (see {@link hashKey}).
 */
export class FrequencySketch {
  private readonly table: Uint32Array;
  private readonly blockMask: number;
  readonly sampleSize: number;
  private additions = 0;

  constructor(capacity: number) {
    // One 64-bit row (16 counters) per entry, as Caffeine, and at least one block.
    let rows = 8;
    while (rows < capacity) rows *= 2;
    this.table = new Uint32Array(rows * 2);
    this.blockMask = (rows >>> 3) - 1;
    this.sampleSize = Math.max(10, 10 * capacity);
  }

  /** Counts one more occurrence of `hash`; halves every counter every `sampleSize` counts. */
  increment(hash: number): void {
    const table = this.table;
    const blockHash = spread(hash);
    const counterHash = rehash(blockHash);
    const block = (blockHash & this.blockMask) << 4;
    let added = false;
    for (let i = 0; i < 4; i++) {
      const h = counterHash >>> (i << 3);
      const index = (h >>> 1) & 15;
      const word = block + ((h & 1) << 1) + (i << 2) + (index >>> 3);
      const shift = (index & 7) << 2;
      const value = table[word]!;
      if (((value >>> shift) & 15) !== 15) {
        table[word] = value + (1 << shift);
        added = true;
      }
    }
    if (added && ++this.additions === this.sampleSize) this.reset();
  }

  /** The estimated count of `hash` (0..15). */
  frequency(hash: number): number {
    const table = this.table;
    const blockHash = spread(hash);
    const counterHash = rehash(blockHash);
    const block = (blockHash & this.blockMask) << 4;
    let min = 15;
    for (let i = 0; i < 4; i++) {
      const h = counterHash >>> (i << 3);
      const index = (h >>> 1) & 15;
      const word = block + ((h & 1) << 1) + (i << 2) + (index >>> 3);
      const value = (table[word]! >>> ((index & 7) << 2)) & 15;
      if (value < min) min = value;
    }
    return min;
  }

  private reset(): void {
    const table = this.table;
    let odd = 0;
    for (let i = 0; i < table.length; i++) {
      const value = table[i]!;
      odd += popcount(value & 0x11111111);
      table[i] = (value >>> 1) & 0x77777777;
    }
    // Halving rounds odd counters down; as Caffeine, take that loss (a quarter of the odd
    // counters, four per item) off the count before halving it.
    this.additions = (this.additions - (odd >>> 2)) >>> 1;
  }

  clear(): void {
    this.table.fill(0);
    this.additions = 0;
  }
}

/** Caffeine's `spread`: mixes the item hash into the block hash. */
function spread(x: number): number {
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

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
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
