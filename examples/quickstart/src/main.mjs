// The quick-start demo. It runs against the built packages (dist/), exactly as an application
// that installed them from npm would. By default it needs no Redis and no database server: the
// cache runs on its embedded in-process L2. `--redis` (or `--redis=redis://host:port`) uses Redis
// as the shared L2 and its pub/sub as the invalidation bus, default redis://127.0.0.1:6379.
import { setTimeout as sleep } from 'node:timers/promises';
import { createCache } from '@dc/cache';
import { isDcError } from '@dc/core';

const flag = process.argv.find((arg) => arg === '--redis' || arg.startsWith('--redis='));
const redisUrl = flag && (flag.split('=')[1] ?? 'redis://127.0.0.1:6379');
const shared = {};
if (redisUrl) {
  const { createRedisBus, createRedisStore } = await import('@dc/redis-adapter');
  shared.l2 = createRedisStore({ connection: redisUrl, namespace: 'quickstart' });
  shared.bus = createRedisBus({ connection: redisUrl, channel: 'quickstart:invalidation' });
}
const cache = createCache({ ttl: '10m', grace: '1h', ...shared });
console.log(`L2: ${redisUrl ?? 'embedded (in-process, no Redis)'}`);

const since = (t0) => `${(performance.now() - t0).toFixed(3)} ms`;
const loadUser = async (id) => {
  await sleep(20); // your database
  return { id, name: 'Ada Lovelace' };
};

// 1. A miss runs the loader; the next read is an L1 hit (no await inside the cache).
await cache.delete('user:1');
let t0 = performance.now();
await cache.getOrSet('user:1', loadUser);
console.log(`miss, loaded:   ${since(t0)}`);
t0 = performance.now();
const user = await cache.getOrSet('user:1', loadUser);
console.log(`L1 hit:         ${since(t0)}  ->`, user);

// 2. 1,000 concurrent callers on a cold key share one load.
await cache.delete('report');
let loads = 0;
const buildReport = async () => {
  loads++;
  await sleep(50);
  return 'report';
};
await Promise.all(Array.from({ length: 1_000 }, () => cache.getOrSet('report', buildReport)));
console.log(`1,000 concurrent getOrSet -> ${loads} load`);

// 3. Stale-while-revalidate: past its TTL (within grace) the old value answers at once while one
//    refresh runs in the background.
const short = { ttl: '100ms', grace: '1h' };
await cache.set('price', 100, short);
await sleep(150);
t0 = performance.now();
const stale = await cache.getOrSet('price', async () => 105, short);
console.log(`stale served:   ${stale} in ${since(t0)}`);
await cache.settle();
console.log(`refreshed:      ${await cache.get('price')}`);

// 4. Bad input is a typed error before any I/O.
try {
  await cache.getOrSet('user:2', loadUser, { ttl: '5 parsecs' });
} catch (error) {
  console.log(
    `bad input:      ${isDcError(error, 'E_INVALID_OPTION') ? error.code : 'unexpected'} - ${error.message}`,
  );
}

// 5. Counters for your metrics.
const { l1Hits, l2Hits, misses, loads: loaderCalls, coalesced, staleHits } = cache.stats();
console.log('stats:', { l1Hits, l2Hits, misses, loaderCalls, coalesced, staleHits });

await cache.close();
await Promise.all([shared.l2?.close(), shared.bus?.close()]);
