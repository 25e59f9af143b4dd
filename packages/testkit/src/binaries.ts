import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Absolute paths of the Redis executables the harness runs. */
export interface RedisBinaries {
  /** Path of `redis-server` (also used for Sentinel, with `--sentinel`). */
  readonly redisServer: string;
  /** Path of `redis-cli` (used for `--cluster create`). */
  readonly redisCli: string;
}

let cached: { path: string; binaries: RedisBinaries } | undefined;

/**
 * Finds `redis-server` and `redis-cli` on `PATH`.
 * @throws Error saying how to install them when either is missing.
 */
export function requireRedisBinaries(): RedisBinaries {
  const path = process.env.PATH ?? '';
  if (cached?.path === path) return cached.binaries;
  const redisServer = findOnPath('redis-server');
  const redisCli = findOnPath('redis-cli');
  if (redisServer === undefined || redisCli === undefined) {
    const missing = [redisServer === undefined && 'redis-server', redisCli === undefined && 'redis-cli']
      .filter(Boolean)
      .join(' and ');
    throw new Error(
      `[dc:testkit] ${missing} not found on PATH. The real-Redis tests need Redis >= 7: install it with ` +
        '`apt-get install -y redis-server` as root, or `sudo apt-get install -y redis-server` ' +
        '(macOS: `brew install redis`), then run the tests again.',
    );
  }
  const binaries = Object.freeze({ redisServer, redisCli });
  cached = { path, binaries };
  return binaries;
}

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this PATH entry
    }
  }
  return undefined;
}
