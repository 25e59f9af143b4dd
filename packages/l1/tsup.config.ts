import { defineConfig } from 'tsup';
import { baseTsupOptions } from '../../tooling/tsup.base.ts';

// `shims` gives the CJS build an `import.meta.url`, which loads node-cache lazily.
export default defineConfig({ ...baseTsupOptions, shims: true });
