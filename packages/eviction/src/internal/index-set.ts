/** A set of slot indices with O(1) add, remove and uniform random pick (dense array + positions). */
export class IndexSet {
  dense: Int32Array;
  private pos: Int32Array;
  count = 0;

  constructor(capacity: number) {
    this.dense = new Int32Array(capacity);
    this.pos = new Int32Array(capacity).fill(-1);
  }

  add(slot: number): void {
    this.pos[slot] = this.count;
    this.dense[this.count++] = slot;
  }

  remove(slot: number): void {
    const at = this.pos[slot]!;
    const last = this.dense[--this.count]!;
    this.dense[at] = last;
    this.pos[last] = at;
    this.pos[slot] = -1;
  }

  /** A uniformly random member other than `exclude`, or -1. */
  pick(random: () => number, exclude: number): number {
    const n = this.count;
    if (n === 0 || (n === 1 && this.dense[0] === exclude)) return -1;
    for (let tries = 0; tries < 32; tries++) {
      const slot = this.dense[Math.floor(random() * n)]!;
      if (slot !== exclude) return slot;
    }
    // A degenerate random source: fall back to a deterministic member.
    const first = this.dense[0]!;
    return first !== exclude ? first : this.dense[1]!;
  }

  clear(): void {
    this.pos.fill(-1);
    this.count = 0;
  }

  grow(capacity: number): void {
    const dense = new Int32Array(capacity);
    dense.set(this.dense);
    this.dense = dense;
    const pos = new Int32Array(capacity).fill(-1);
    pos.set(this.pos);
    this.pos = pos;
  }
}
