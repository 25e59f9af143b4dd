import { defineProject } from 'vitest/config';

/**
 * Per-package vitest project. The `@dc/source` condition makes sibling packages resolve to
 * their `src/` so tests need no build step; vitest 4 needs it on the SSR side too.
 */
export function dcProject(name: string, extra: { testTimeout?: number; fileParallelism?: boolean } = {}) {
  return defineProject({
    resolve: { conditions: ['@dc/source'] },
    ssr: { resolve: { conditions: ['@dc/source'] } },
    test: {
      name,
      include: ['test/**/*.test.ts'],
      // Tier N fault scenarios (FAULTS.md) run on demand through `pnpm test:faults`, not in CI.
      exclude: ['test/faults/**', '**/node_modules/**'],
      testTimeout: extra.testTimeout ?? 20_000,
      hookTimeout: 60_000,
      ...(extra.fileParallelism === undefined ? {} : { fileParallelism: extra.fileParallelism }),
    },
  });
}
