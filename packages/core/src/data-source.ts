import { InvalidOptionError } from './errors';

/**
 * The system of record behind the cache (a database, a service). Fill strategies read through
 * it and write to it; batch variants are used when present.
 */
export interface DataSource<V = unknown> {
  /** The value for `key`, or `undefined` when the source has none. */
  load(key: string): Promise<V | undefined>;
  /** Persists `value` under `key`. */
  save(key: string, value: V): Promise<void>;
  /** Removes `key` from the source. */
  delete(key: string): Promise<void>;
  /** Values for many keys in one round trip; absent keys are simply missing from the map. */
  loadMany?(keys: readonly string[]): Promise<ReadonlyMap<string, V>>;
  /** Persists many values in one round trip. */
  saveMany?(entries: ReadonlyArray<readonly [string, V]>): Promise<void>;
  /** Removes many keys in one round trip. */
  deleteMany?(keys: readonly string[]): Promise<void>;
}

/** The method names of {@link DataSource}. */
export type DataSourceMethod = keyof DataSource<unknown>;

/**
 * Throws {@link InvalidOptionError} at construction time unless `source` has every method in
 * `required`, so a strategy fails on setup rather than on the first write.
 */
export function assertDataSource<V>(
  source: unknown,
  required: readonly DataSourceMethod[],
  scope = 'core',
): asserts source is DataSource<V> {
  if (typeof source !== 'object' || source === null) {
    throw new InvalidOptionError(`[dc:${scope}] \`dataSource\` must be an object, got ${String(source)}`);
  }
  const missing = required.filter(
    (method) => typeof (source as Record<string, unknown>)[method] !== 'function',
  );
  if (missing.length > 0) {
    throw new InvalidOptionError(
      `[dc:${scope}] \`dataSource\` is missing required method(s): ${missing.join(', ')}`,
    );
  }
}
