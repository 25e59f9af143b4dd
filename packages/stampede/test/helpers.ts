import type { CacheEntry, CacheStore, Clock, SyncCacheStore } from '@dc/core';
import type { TestStore } from '@dc/testkit';

/** A promise resolved by a clock timer: "the loader takes `ms`" without real sleeping. */
export function delay(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimer(resolve, ms));
}

/** Adds the SyncCacheStore face to a test store. */
export function withSync<V>(store: TestStore<V>, clock: Clock): CacheStore<V> & SyncCacheStore<V> {
  return Object.assign(store, {
    getSync(key: string) {
      const entry = store.entries.get(key);
      return entry !== undefined && clock.now() < entry.expiresAt ? entry : undefined;
    },
    setSync(key: string, entry: CacheEntry<V>) {
      store.entries.set(key, entry);
    },
    deleteSync(key: string) {
      return store.entries.delete(key);
    },
  });
}

/** Counts `unhandledRejection` events while `run` executes (plus a macrotask to let them fire). */
export async function countUnhandledRejections(run: () => Promise<void>): Promise<number> {
  let count = 0;
  const onUnhandled = () => {
    count++;
  };
  process.on('unhandledRejection', onUnhandled);
  try {
    await run();
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setTimeout(resolve, 0));
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
  return count;
}
