import type { DataSource } from '@dc/core';
import Database from 'better-sqlite3';

/** A `DataSource<string>` over a real SQLite database (better-sqlite3, `:memory:`). */
export interface SqliteSource extends Required<DataSource<string>> {
  /** The value stored in SQLite right now, bypassing every counter and fault. */
  peek(key: string): string | undefined;
  /** Every row, for assertions. */
  rows(): Map<string, string>;
  /** Number of `save`/`saveMany` rows and `delete`/`deleteMany` keys attempted, failed ones included. */
  readonly calls: { saves: number; deletes: number; loads: number; batches: number };
  /** Fails every call while true. */
  down: boolean;
  /** Probability that a write fails before touching the database. */
  writeFailRate: number;
  close(): void;
}

/** Opens an in-memory SQLite database with one `kv` table and wraps it as a data source. */
export function createSqliteSource(random: () => number = Math.random): SqliteSource {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT NOT NULL)');
  const select = db.prepare<[string], { v: string }>('SELECT v FROM kv WHERE k = ?');
  const upsert = db.prepare<[string, string]>(
    'INSERT INTO kv (k, v) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v',
  );
  const remove = db.prepare<[string]>('DELETE FROM kv WHERE k = ?');
  const upsertMany = db.transaction((entries: ReadonlyArray<readonly [string, string]>) => {
    for (const [k, v] of entries) upsert.run(k, v);
  });
  const removeMany = db.transaction((keys: readonly string[]) => {
    for (const k of keys) remove.run(k);
  });

  const source: SqliteSource = {
    calls: { saves: 0, deletes: 0, loads: 0, batches: 0 },
    down: false,
    writeFailRate: 0,
    peek: (key) => select.get(key)?.v,
    rows: () =>
      new Map(
        db
          .prepare<[], { k: string; v: string }>('SELECT k, v FROM kv')
          .all()
          .map((r) => [r.k, r.v]),
      ),
    close: () => db.close(),
    async load(key) {
      source.calls.loads += 1;
      if (source.down) throw new Error('sqlite source is down');
      return select.get(key)?.v;
    },
    async loadMany(keys) {
      source.calls.loads += 1;
      if (source.down) throw new Error('sqlite source is down');
      const out = new Map<string, string>();
      for (const key of keys) {
        const row = select.get(key);
        if (row !== undefined) out.set(key, row.v);
      }
      return out;
    },
    async save(key, value) {
      source.calls.saves += 1;
      writeGate();
      upsert.run(key, value);
    },
    async saveMany(entries) {
      source.calls.saves += entries.length;
      source.calls.batches += 1;
      writeGate();
      upsertMany(entries);
    },
    async delete(key) {
      source.calls.deletes += 1;
      writeGate();
      remove.run(key);
    },
    async deleteMany(keys) {
      source.calls.deletes += keys.length;
      source.calls.batches += 1;
      writeGate();
      removeMany(keys);
    },
  };
  function writeGate(): void {
    if (source.down) throw new Error('sqlite source is down');
    if (source.writeFailRate > 0 && random() < source.writeFailRate)
      throw new Error('injected sqlite write failure');
  }
  return source;
}
