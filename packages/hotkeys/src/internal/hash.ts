/**
 * FNV-1a over UTF-16 code units, finished with murmur3's fmix32 so that every output bit depends
 * on every input bit (FNV alone leaves the low bits weak, and the sketch masks them).
 * Allocation-free: one pass of `charCodeAt`, no encoding step.
 */
export function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}
