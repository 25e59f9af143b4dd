import { dcProject } from '../../tooling/vitest.shared.ts';

// The replication test starts a 6-node cluster; run files one at a time so it does not compete
// with the 1M-event sketch test for the two CPU cores.
export default dcProject('hotkeys', { testTimeout: 60_000, fileParallelism: false });
