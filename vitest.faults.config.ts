import { defineConfig } from 'vitest/config';

// Tier N of ../shared/FAULTS.md: longer chaos scenarios against real redis-server processes
// (Sentinel failover, cluster reshard, whole-cluster outage, kill/restart cycles, 10k-entry
// write-behind recovery). On demand with `pnpm test:faults`; one file at a time so a failover
// timing is never skewed by another file's servers.
export default defineConfig({
  resolve: { conditions: ['@dc/source'] },
  ssr: { resolve: { conditions: ['@dc/source'] } },
  test: {
    include: ['packages/*/test/faults/**/*.fault.test.ts'],
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 120_000,
    passWithNoTests: true,
  },
});
