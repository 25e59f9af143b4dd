import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// Every published package must be consumable the same way: ESM + CJS + per-format types,
// the source condition first for in-repo resolution, no side effects, Node >= 20.
const packagesDir = join(import.meta.dirname, '..', '..');
const published = readdirSync(packagesDir)
  .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(packagesDir, dir, 'package.json'), 'utf8')) }))
  .filter(({ manifest }) => manifest.private !== true);

describe('published package manifests', () => {
  it('covers the nine @dc packages', () => {
    expect(published.map((p) => p.manifest.name).sort()).toEqual(
      [
        '@dc/cache',
        '@dc/core',
        '@dc/eviction',
        '@dc/hashing',
        '@dc/hotkeys',
        '@dc/l1',
        '@dc/redis-adapter',
        '@dc/stampede',
        '@dc/strategies',
      ].sort(),
    );
  });

  it.each(published.map((p) => [p.manifest.name, p] as const))(
    '%s has the shared shape',
    (_name, { dir, manifest }) => {
      expect(manifest.sideEffects).toBe(false);
      expect(manifest.engines?.node).toBe('>=20');
      expect(manifest.type).toBe('module');
      const root = manifest.exports['.'];
      expect(Object.keys(root)[0]).toBe('@dc/source');
      expect(root['@dc/source']).toBe('./src/index.ts');
      expect(root.import).toEqual({ types: './dist/index.d.ts', default: './dist/index.js' });
      expect(root.require).toEqual({ types: './dist/index.d.cts', default: './dist/index.cjs' });
      expect(manifest.exports['./package.json']).toBe('./package.json');
      expect(manifest.scripts['check:exports']).toContain('publint --strict');
      expect(manifest.scripts['check:exports']).toContain('attw --pack');
      for (const file of ['README.md', 'src/index.ts', 'tsup.config.ts', 'vitest.config.ts']) {
        expect(() => readFileSync(join(packagesDir, dir, file)), `${dir}/${file}`).not.toThrow();
      }
    },
  );

  it('uses only workspace ranges for sibling packages', () => {
    for (const { manifest } of published) {
      for (const [dep, range] of Object.entries<string>(manifest.dependencies ?? {})) {
        if (dep.startsWith('@dc/')) expect(range, `${manifest.name} -> ${dep}`).toMatch(/^workspace:/);
      }
    }
  });
});
