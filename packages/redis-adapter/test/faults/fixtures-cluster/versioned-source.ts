/**
 * The W3 system of record: two Redis hashes, `src` (key -> payload) and `ver` (key -> version),
 * written by one script per batch so a batch is atomic. A write only lands when its version is
 * newer than the key's current one; the same version again is counted as a duplicate (an
 * idempotent re-apply), an older one as stale (it would have resurrected an old value).
 * KEYS: src, ver, stats. ARGV: key, version, payload, key, version, payload, …
 * Returns { applied, duplicates, stale } for the batch.
 */
export const VERSIONED_APPLY = `
local applied, duplicates, stale = 0, 0, 0
for i = 1, #ARGV, 3 do
  local key, version = ARGV[i], tonumber(ARGV[i + 1])
  local current = tonumber(redis.call('HGET', KEYS[2], key) or '-1')
  if version > current then
    redis.call('HSET', KEYS[1], key, ARGV[i + 2])
    redis.call('HSET', KEYS[2], key, ARGV[i + 1])
    applied = applied + 1
  elseif version == current then
    duplicates = duplicates + 1
  else
    stale = stale + 1
  end
end
redis.call('HINCRBY', KEYS[3], 'applied', applied)
redis.call('HINCRBY', KEYS[3], 'duplicates', duplicates)
redis.call('HINCRBY', KEYS[3], 'stale', stale)
return { applied, duplicates, stale }`;

/** Key names of the source for one stream. */
export const sourceKeys = (stream: string) => [`${stream}:src`, `${stream}:ver`, `${stream}:stats`] as const;

/** The value the W3 app writes: its own version, so the source can order writes. */
export interface VersionedValue {
  readonly v: number;
}

/** Write `round` of key index `k` carries version `round * keyCount + k`: increasing per key. */
export const versionOf = (round: number, k: number, keyCount: number) => round * keyCount + k;
