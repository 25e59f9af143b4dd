import { defineConfig } from 'vitest/config';

// One run, one project per package: Redis-backed suites start their servers once per file,
// never once per package build.
export default defineConfig({
  test: {
    passWithNoTests: true,
    projects: ['packages/*/vitest.config.ts', 'packages/redis-adapter/vitest.ioredis6.config.ts'],
  },
});
