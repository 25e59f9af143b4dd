import { createManualClock, createTestStore, runCacheStoreConformance } from '../src/index';

// The suite validated against a minimal correct store in each mode it supports.
runCacheStoreConformance('memory store with a manual clock', async () => {
  const clock = createManualClock(1_700_000_000_000);
  return { store: createTestStore({ clock }), clock };
});

runCacheStoreConformance(
  'serializing memory store on the wall clock',
  async () => ({ store: createTestStore({ serialize: true }) }),
  { realTime: true, serializes: true },
);
