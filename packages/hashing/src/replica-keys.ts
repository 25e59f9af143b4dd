import { describe, InvalidOptionError, invalidKey } from './internal/errors';
import { keySlot } from './key-slot';
import type { SlotMap } from './slot-map';

// Candidate suffixes tried per requested replica before a node is reused; a primary that owns
// very few slots is hard to hit, and the search must stay bounded.
const ATTEMPTS_PER_REPLICA = 256;

/**
 * Names `count` replica keys of `key` (`key#i`) chosen so that they land on distinct primaries
 * of `slotMap`, for hot-key replication (read one replica at random, write all).
 *
 * The suffix `#i` decides the slot: for a key without a hash tag the replica is `key#i` and the
 * whole name is hashed; for a key with a hash tag (`{user:1}:profile`) the suffix goes inside
 * the tag (`{user:1#i}:profile`), because Redis hashes only the tag. Suffixes are tried in
 * order `i = 0, 1, 2, …` and a candidate is kept only when its slot's primary is not used yet,
 * so the `i` values are usually not contiguous. The result depends only on `key`, `count` and
 * the slot map, so every client with the same map computes the same names.
 *
 * When `count` exceeds the number of primaries, the first keys cover every primary once and
 * the rest cycle over them in the same order. A primary that owns very few slots may be
 * skipped after a bounded search (`count * 256` candidates).
 *
 * @param slotMap the cluster's current slot map
 * @param key the hot key (a string)
 * @param count number of replica keys, a positive integer
 * @returns `count` distinct key names, replica `0` first
 * @throws InvalidKeyError when `key` is not a string
 * @throws InvalidOptionError when `count` is not a positive integer or the map has no node
 */
export function replicaKeysOnDistinctNodes(slotMap: SlotMap, key: string, count: number): string[] {
  if (typeof key !== 'string') throw invalidKey('key', key);
  if (!Number.isSafeInteger(count) || count < 1) {
    throw new InvalidOptionError(`[dc:hashing] \`count\` must be a positive integer, got ${describe(count)}`);
  }
  const primaries = slotMap.nodes.length;
  if (primaries === 0) {
    throw new InvalidOptionError('[dc:hashing] `slotMap` has no node; fill it from CLUSTER SHARDS first');
  }
  const open = key.indexOf('{');
  const close = open === -1 ? -1 : key.indexOf('}', open + 1);
  const tagged = close > open + 1;
  const candidate = (i: number): string =>
    tagged ? `${key.slice(0, close)}#${i}${key.slice(close)}` : `${key}#${i}`;

  const distinct = Math.min(count, primaries);
  const chosen: string[] = [];
  const chosenNodes: string[] = [];
  const used = new Set<string>();
  const maxAttempts = count * ATTEMPTS_PER_REPLICA;
  let i = 0;
  for (; chosen.length < distinct && i < maxAttempts; i++) {
    const name = candidate(i);
    const node = slotMap.nodeForSlot(keySlot(name));
    if (node === undefined || used.has(node)) continue;
    used.add(node);
    chosen.push(name);
    chosenNodes.push(node);
  }
  // Past the distinct primaries (or when the search ran out), cycle over the nodes found so far;
  // when none was found, accept any candidate.
  while (chosen.length < count) {
    const wanted = chosenNodes.length === 0 ? undefined : chosenNodes[chosen.length % chosenNodes.length];
    for (let tries = 0; ; tries++, i++) {
      const name = candidate(i);
      if (wanted === undefined || tries >= maxAttempts || slotMap.nodeForSlot(keySlot(name)) === wanted) {
        chosen.push(name);
        i++;
        break;
      }
    }
  }
  return chosen;
}
