import { dcProject } from '../../tooling/vitest.shared.ts';

// The harness tests start whole topologies; run their files one at a time so two clusters never
// compete for the two CPU cores during a failover measurement.
export default dcProject('testkit', { testTimeout: 60_000, fileParallelism: false });
