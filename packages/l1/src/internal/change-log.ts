/**
 * Remembers the version of the last write, delete or invalidation of recently changed keys, so
 * that a fill that started earlier (a load racing a delete, FAULTS D4) can be refused.
 *
 * Bounded: the last `capacity` changes sit in a ring; when a change falls out of it, `floor`
 * rises to its version and every token older than the floor is refused. Refusing a fill is
 * always safe for a cache; accepting a stale one is not. (A `Map` kept in version order by
 * delete-and-reinsert would be simpler, but V8 leaves a hole per front deletion and the next
 * "oldest" lookup walks them: measured at ~8 µs per write at 10k keys.)
 */
export class ChangeLog {
  private version = 0;
  private floor = 0;
  private readonly latest = new Map<string, number>();
  private readonly ringKeys: Array<string | undefined>;
  private readonly ringVersions: Float64Array;
  private head = 0;
  private count = 0;

  constructor(private readonly capacity: number) {
    this.ringKeys = new Array<string | undefined>(capacity).fill(undefined);
    this.ringVersions = new Float64Array(capacity);
  }

  /** The current version; a fill begun now passes `token` = this. */
  current(): number {
    return this.version;
  }

  /** Records a change of `key`. */
  record(key: string): void {
    const version = ++this.version;
    if (this.count === this.capacity) {
      const oldKey = this.ringKeys[this.head] as string;
      const oldVersion = this.ringVersions[this.head] as number;
      if (this.latest.get(oldKey) === oldVersion) this.latest.delete(oldKey);
      this.floor = oldVersion;
    } else {
      this.count++;
    }
    this.ringKeys[this.head] = key;
    this.ringVersions[this.head] = version;
    this.head = this.head + 1 === this.capacity ? 0 : this.head + 1;
    this.latest.set(key, version);
  }

  /** Records a change of every key at once (clear, resync). */
  recordAll(): void {
    this.floor = ++this.version;
    this.latest.clear();
    this.ringKeys.fill(undefined);
    this.count = 0;
    this.head = 0;
  }

  /** True when `key` has not changed since `token` was taken. */
  unchangedSince(key: string, token: number): boolean {
    if (token < this.floor) return false;
    const changed = this.latest.get(key);
    return changed === undefined || changed <= token;
  }
}
