import { dcProject } from '../../tooling/vitest.shared.ts';

// Real-Redis files start their own servers; running them one at a time keeps the 2-core CI
// box from timing out the fault tests of other files.
export default dcProject('redis-adapter', { testTimeout: 30_000, fileParallelism: false });
