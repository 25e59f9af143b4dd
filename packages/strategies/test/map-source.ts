import type { DataSource } from '@dc/core';

/** A map-backed data source that records every call and can be switched off. */
export interface MapSource<V> extends DataSource<V> {
  readonly data: Map<string, V>;
  /** Every write attempted, failed ones included: `['save', key]`, `['saveMany', n]`, ... */
  readonly log: Array<readonly [string, string | number]>;
  /** Rows written or deleted, attempted (failed included). */
  readonly attempts: { saves: number; deletes: number; batches: number };
  /** Every call fails while true. */
  down: boolean;
}

/** Creates a {@link MapSource}; `batch: false` leaves out `saveMany`/`deleteMany`/`loadMany`. */
export function createMapSource<V>(options: { batch?: boolean } = {}): MapSource<V> {
  const data = new Map<string, V>();
  const log: Array<readonly [string, string | number]> = [];
  const attempts = { saves: 0, deletes: 0, batches: 0 };
  const source: MapSource<V> = {
    data,
    log,
    attempts,
    down: false,
    async load(key) {
      if (source.down) throw new Error('source down');
      return data.get(key);
    },
    async save(key, value) {
      log.push(['save', key]);
      attempts.saves += 1;
      if (source.down) throw new Error('source down');
      data.set(key, value);
    },
    async delete(key) {
      log.push(['delete', key]);
      attempts.deletes += 1;
      if (source.down) throw new Error('source down');
      data.delete(key);
    },
  };
  if (options.batch !== false) {
    source.saveMany = async (entries) => {
      log.push(['saveMany', entries.length]);
      attempts.saves += entries.length;
      attempts.batches += 1;
      if (source.down) throw new Error('source down');
      for (const [key, value] of entries) data.set(key, value);
    };
    source.deleteMany = async (keys) => {
      log.push(['deleteMany', keys.length]);
      attempts.deletes += keys.length;
      attempts.batches += 1;
      if (source.down) throw new Error('source down');
      for (const key of keys) data.delete(key);
    };
  }
  return source;
}
