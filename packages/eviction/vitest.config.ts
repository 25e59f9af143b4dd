import { dcProject } from '../../tooling/vitest.shared.ts';

export default dcProject('eviction');
