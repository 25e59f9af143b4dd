import { BaseStore } from './internal/base-store';
import { LfuStore } from './internal/lfu-store';
import { LruStore } from './internal/lru-store';
import { SampledStore } from './internal/sampled-store';
import { SieveStore } from './internal/sieve-store';
import { TinyLfuStore } from './internal/tinylfu-store';
import type { MemoryStoreOptions } from './options';
import { resolveMemoryStoreOptions } from './options';
import type { MemoryStore } from './types';

/**
 * Creates a bounded, synchronous in-memory store.
 *
 * `mode` decides which keys may be evicted (`allkeys-*`: all; `volatile-*`: only keys with a
 * TTL) and how the victim is chosen; `policy` is the structure that ranks the candidates for
 * the `*-lru` (`lru`, `sieve`) and `*-lfu` (`lfu`, `tinylfu`) modes.
 *
 * @throws InvalidOptionError (`E_INVALID_OPTION`) naming the first bad option.
 * @example
 * const store = createMemoryStore<string>({ maxEntries: 10_000, policy: 'tinylfu' });
 * store.set('user:1', 'Ada', { ttlMs: 5_000 });
 * store.get('user:1'); // 'Ada'
 */
export function createMemoryStore<V>(options: MemoryStoreOptions<V>): MemoryStore<V> {
  const resolved = resolveMemoryStoreOptions(options);
  switch (resolved.mode) {
    case 'noeviction':
      return new SampledStore(resolved, 'none');
    case 'allkeys-random':
    case 'volatile-random':
      return new SampledStore(resolved, 'random');
    case 'volatile-ttl':
      return new SampledStore(resolved, 'ttl');
    default:
      break;
  }
  switch (resolved.policy) {
    case 'sieve':
      return new SieveStore(resolved);
    case 'tinylfu':
      return new TinyLfuStore(resolved);
    case 'lfu':
      return resolved.lfuApproximate ? new SampledStore(resolved, 'redis-lfu') : new LfuStore(resolved);
    default:
      return new LruStore(resolved);
  }
}

/** True when `value` was made by {@link createMemoryStore} (any policy). */
export function isMemoryStore(value: unknown): value is MemoryStore<unknown> {
  return value instanceof BaseStore;
}
