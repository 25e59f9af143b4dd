import { fileURLToPath } from 'node:url';
import { dcProject } from '../../tooling/vitest.shared.ts';

// The same adapter tests against ioredis 6 (the peer range is ^5.4 || ^6): `ioredis` imports in
// src and tests resolve to the `ioredis6` alias package, and child processes bundled by
// test/fixtures/bundle-child.ts pick it up through DC_IOREDIS. A subset of files keeps CI lean:
// every topology's conformance, the fail-fast outage rows, the bus (incl. RESP3 tracking), the
// lock/lease race, the Streams queue, the poison and RESP edge cases. Left to the ioredis 5 run:
// the multi-process bus latency and the Sentinel failover timing (topology conformance covers
// Sentinel here).
const ioredis6Dir = fileURLToPath(new URL('./node_modules/ioredis6', import.meta.url));
const ioredis6 = `${ioredis6Dir}/built/index.js`;
const base = dcProject('redis-adapter-ioredis6', { testTimeout: 30_000, fileParallelism: false });

export default {
  ...base,
  root: fileURLToPath(new URL('.', import.meta.url)),
  resolve: { ...base.resolve, alias: [{ find: /^ioredis$/, replacement: ioredis6 }] },
  test: {
    ...base.test,
    include: ['test/**/*.test.ts'],
    exclude: [
      ...(base.test?.exclude ?? []),
      'test/bus-processes.int.test.ts',
      'test/sentinel-failover.int.test.ts',
    ],
    env: { DC_IOREDIS: ioredis6Dir },
    // After every other project, so its outage timings never share the 2 cores with the
    // ioredis 5 run of the same files.
    sequence: { groupOrder: 1 },
  },
};
