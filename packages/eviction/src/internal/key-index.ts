/** The part of `Map<string, number>` (key → slot) the stores use; a `Map` satisfies it as is. */
export interface KeyIndex {
  readonly size: number;
  get(key: string): number | undefined;
  set(key: string, slot: number): unknown;
  delete(key: string): boolean;
  clear(): void;
  keys(): IterableIterator<string>;
}

/**
 * A key index over a null-prototype object (`keyIndex: 'object'`). V8 finds a string key in it
 * faster than in a `Map` (one dictionary probe in the keyed-load builtin), but adding and
 * deleting keys costs more. With no prototype, `__proto__`, `constructor` or `toString` are
 * ordinary own keys.
 */
export class ObjectIndex implements KeyIndex {
  private table: Record<string, number> = Object.create(null) as Record<string, number>;
  size = 0;

  get(key: string): number | undefined {
    return this.table[key];
  }

  set(key: string, slot: number): this {
    const table = this.table;
    if (table[key] === undefined) this.size++;
    table[key] = slot;
    return this;
  }

  delete(key: string): boolean {
    const table = this.table;
    if (table[key] === undefined) return false;
    delete table[key];
    this.size--;
    return true;
  }

  clear(): void {
    this.table = Object.create(null) as Record<string, number>;
    this.size = 0;
  }

  // Insertion order, except that integer-like keys ('0', '17') come first in ascending order,
  // as in any object. Ends if `clear()` swaps the table, as a `Map` iterator ends on `clear()`.
  *keys(): IterableIterator<string> {
    const table = this.table;
    for (const key in table) {
      if (this.table !== table) return;
      if (table[key] !== undefined) yield key;
    }
  }
}
