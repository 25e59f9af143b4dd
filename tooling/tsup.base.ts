import type { Options } from 'tsup';

/**
 * The one build shape every published @dc package spreads: ESM + CJS with per-format
 * declarations (`.d.ts` / `.d.cts`), so `attw --pack` and `publint --strict` pass.
 */
export const baseTsupOptions: Options = {
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  platform: 'node',
  splitting: false,
  treeshake: true,
  outDir: 'dist',
};
