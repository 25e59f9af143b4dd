/**
 * A 4-bit count-min sketch as in Caffeine's `FrequencySketch`: 16 counters per row (two
 * `Uint32` words), four hash functions each picking a row and one of four counters in it, and
 * every counter halved ("reset") after `sampleSize` (10 x capacity) increments, so old
 * popularity fades. Items are 32-bit hashes (see {@link hashKey}); the four rows come from
 * double hashing (`h1 + i * h2`, Kirsch & Mitzenmacher), which costs one multiply per item.
 */

export class FrequencySketch {
  private readonly table: Uint32Array;
  private readonly rowMask: number;
  readonly sampleSize: number;
  private additions = 0;

  constructor(capacity: number) {
    let rows = 8;
    while (rows < capacity) rows *= 2;
    this.table = new Uint32Array(rows * 2);
    this.rowMask = rows - 1;
    this.sampleSize = Math.max(10, 10 * capacity);
  }

  /** Counts one more occurrence of `hash`; halves every counter every `sampleSize` counts. */
  increment(hash: number): void {
    const table = this.table;
    const mask = this.rowMask;
    const start = (hash & 3) << 2;
    const step = stepOf(hash);
    let row = rowOf(hash) & mask;
    let added = false;
    for (let i = 0; i < 4; i++) {
      const counter = start + i;
      const word = (row << 1) + (counter >>> 3);
      const shift = (counter & 7) << 2;
      const value = table[word]!;
      if (((value >>> shift) & 15) !== 15) {
        table[word] = value + (1 << shift);
        added = true;
      }
      row = (row + step) & mask;
    }
    if (added && ++this.additions === this.sampleSize) this.reset();
  }

  /** The estimated count of `hash` (0..15). */
  frequency(hash: number): number {
    const table = this.table;
    const mask = this.rowMask;
    const start = (hash & 3) << 2;
    const step = stepOf(hash);
    let row = rowOf(hash) & mask;
    let min = 15;
    for (let i = 0; i < 4; i++) {
      const counter = start + i;
      const value = (table[(row << 1) + (counter >>> 3)]! >>> ((counter & 7) << 2)) & 15;
      if (value < min) min = value;
      row = (row + step) & mask;
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

/** First row of `hash` (double hashing's h1). */
function rowOf(hash: number): number {
  const a = Math.imul(hash, 0x9e3779b1);
  return a ^ (a >>> 15);
}

/** Odd row stride of `hash` (double hashing's h2), odd so it cycles through every row. */
function stepOf(hash: number): number {
  const b = Math.imul(hash ^ (hash >>> 13), 0x85ebca6b);
  return ((b ^ (b >>> 16)) >>> 8) | 1;
}
