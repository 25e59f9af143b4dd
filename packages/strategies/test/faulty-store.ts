import type { CacheStore } from '@dc/core';
import { CacheUnavailableError } from '@dc/core';

/** Knobs of a {@link FaultyStore}; change them at any time. */
export interface Faults {
  /** Every call fails while true. */
  down: boolean;
  /** Probability that a write (`set`, `setMany`, `delete`, `deleteMany`) fails. */
  writeFailRate: number;
  /** Probability that a read (`get`, `getMany`) fails. */
  readFailRate: number;
}

/** A store wrapper that injects failures; `failures` counts the injected ones. */
export interface FaultyStore<V> extends CacheStore<V> {
  readonly faults: Faults;
  readonly failures: { count: number };
}

/** Wraps `inner` so calls fail per {@link Faults}, drawing from the seeded `random`. */
export function withFaults<V>(
  inner: CacheStore<V>,
  random: () => number,
  faults: Partial<Faults> = {},
): FaultyStore<V> {
  const state: Faults = { down: false, writeFailRate: 0, readFailRate: 0, ...faults };
  const failures = { count: 0 };
  const gate = (kind: 'read' | 'write'): void => {
    const rate = kind === 'read' ? state.readFailRate : state.writeFailRate;
    if (state.down || (rate > 0 && random() < rate)) {
      failures.count += 1;
      throw new CacheUnavailableError(`[dc:test] injected ${kind} failure`);
    }
  };
  return {
    name: `faulty(${inner.name})`,
    faults: state,
    failures,
    async get(key) {
      gate('read');
      return inner.get(key);
    },
    async getMany(keys) {
      gate('read');
      return inner.getMany(keys);
    },
    async set(key, entry) {
      gate('write');
      return inner.set(key, entry);
    },
    async setMany(entries) {
      gate('write');
      return inner.setMany(entries);
    },
    async delete(key) {
      gate('write');
      return inner.delete(key);
    },
    async deleteMany(keys) {
      gate('write');
      return inner.deleteMany(keys);
    },
    clear: () => inner.clear(),
    close: () => inner.close(),
  };
}
