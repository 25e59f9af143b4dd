/**
 * Remembers, per key, the version of its last write, delete or invalidation, so that a fill
 * that started earlier (a load racing a delete, FAULTS D4) can be refused.
 *
 * The log is bounded: when it holds more than `capacity` keys the oldest record is dropped and
 * `floor` rises to its version, so every token older than the floor is refused. Refusing a fill
 * is always safe for a cache; accepting a stale one is not.
 */
export class ChangeLog {
  private version = 0;
  private floor = 0;
  private readonly changes = new Map<string, number>();

  constructor(private readonly capacity: number) {}

  /** The current version; a fill begun now passes `token` = this. */
  current(): number {
    return this.version;
  }

  /** Records a change of `key`. */
  record(key: string): void {
    const version = ++this.version;
    // Re-inserting keeps the map in version order, so the first record is always the oldest.
    this.changes.delete(key);
    this.changes.set(key, version);
    if (this.changes.size > this.capacity) {
      const oldest = this.changes.entries().next().value as [string, number];
      this.changes.delete(oldest[0]);
      this.floor = oldest[1];
    }
  }

  /** Records a change of every key at once (clear, resync). */
  recordAll(): void {
    this.floor = ++this.version;
    this.changes.clear();
  }

  /** True when `key` has not changed since `token` was taken. */
  unchangedSince(key: string, token: number): boolean {
    if (token < this.floor) return false;
    const changed = this.changes.get(key);
    return changed === undefined || changed <= token;
  }
}
