import { crc16OfBytes, crc16OfString } from './internal/crc16-core';
import { invalidKey } from './internal/errors';

/** Number of hash slots in a Redis Cluster. */
export const SLOT_COUNT = 16384;

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * The Redis Cluster hash slot of `key`: `crc16(hashed part) & 16383`, where the hashed part is
 * the hash tag when there is one. Redis's rule (`keyHashSlot` in `cluster.c`): find the first
 * `{`, then the first `}` after it; when at least one byte lies between them only those bytes
 * are hashed, otherwise the whole key is (so `foo{}{bar}` hashes the whole key).
 *
 * Binary keys (any bytes, including invalid UTF-8) go through the `Uint8Array` form. String keys
 * are hashed as UTF-8 without allocating.
 *
 * @param key a string (hashed as UTF-8) or the exact key bytes
 * @returns the slot, 0..16383
 * @throws InvalidKeyError (`E_INVALID_KEY`) when `key` is neither a string nor a `Uint8Array`
 */
export function keySlot(key: string | Uint8Array): number {
  if (typeof key === 'string') {
    // `{` and `}` are ASCII, and no UTF-8 multi-byte sequence contains their bytes, so finding
    // the tag on UTF-16 indices selects exactly the bytes Redis selects.
    const open = key.indexOf('{');
    if (open !== -1) {
      const close = key.indexOf('}', open + 1);
      if (close > open + 1) return crc16OfString(key, open + 1, close) & 16383;
    }
    return crc16OfString(key, 0, key.length) & 16383;
  }
  if (key instanceof Uint8Array) {
    const open = key.indexOf(OPEN_BRACE);
    if (open !== -1) {
      const close = key.indexOf(CLOSE_BRACE, open + 1);
      if (close > open + 1) return crc16OfBytes(key, open + 1, close) & 16383;
    }
    return crc16OfBytes(key, 0, key.length) & 16383;
  }
  throw invalidKey('key', key);
}
