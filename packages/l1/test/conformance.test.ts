import { createManualClock } from '@dc/core';
import { runCacheStoreConformance } from '@dc/testkit';
import { createL1Store, L1_BACKENDS } from '../src/index';

const START = 1_700_000_000_000;

for (const backend of L1_BACKENDS) {
  runCacheStoreConformance(`createL1Store (backend ${backend})`, async () => {
    const clock = createManualClock(START);
    // A long defaultTtlMs so the suite's entry lifetimes, not the L1 cap, decide expiry.
    return { store: createL1Store({ backend, clock, defaultTtlMs: 3_600_000 }), clock };
  });

  runCacheStoreConformance(
    `createL1Store (backend ${backend}, cloneValues)`,
    async () => {
      const clock = createManualClock(START);
      return { store: createL1Store({ backend, clock, defaultTtlMs: 3_600_000, cloneValues: true }), clock };
    },
    { serializes: true },
  );
}
