import { describe, InvalidOptionError } from './internal/errors';

/** Anything that maps a key to a node: a `KetamaRing`, or a function such as `k => map.nodeForKey(k)`. */
export type KeyRouter =
  | ((key: string | Uint8Array) => string | undefined)
  | { getNode(key: string | Uint8Array): string | undefined };

/** Result of {@link measureBalance}. */
export interface BalanceReport {
  /** Keys per node, including nodes that received none (when known). */
  readonly perNode: ReadonlyMap<string, number>;
  /** Number of keys routed. */
  readonly keys: number;
  /** Mean keys per node. */
  readonly mean: number;
  /** Most keys on one node. */
  readonly max: number;
  /** Fewest keys on one node. */
  readonly min: number;
  /** `max / mean`: 1 is perfect balance (Ketama with 160 points: ~1.1–1.3). */
  readonly maxOverMean: number;
}

function toRoute(router: KeyRouter, name: string): (key: string | Uint8Array) => string | undefined {
  if (typeof router === 'function') return router;
  if (typeof router === 'object' && router !== null && typeof router.getNode === 'function') {
    return (key) => router.getNode(key);
  }
  throw new InvalidOptionError(
    `[dc:hashing] \`${name}\` must be a function or have getNode(key), got ${describe(router)}`,
  );
}

/**
 * Fraction of `keys` whose node differs between two routers, e.g. a ring before and after
 * `add`. Consistent hashing should move about `1/(N+1)` of the keys when the (N+1)-th node joins.
 *
 * @returns a number in 0..1 (0 for no keys)
 * @throws InvalidOptionError when a router is neither a function nor has `getNode`
 */
export function remapFraction(
  before: KeyRouter,
  after: KeyRouter,
  keys: Iterable<string | Uint8Array>,
): number {
  const from = toRoute(before, 'before');
  const to = toRoute(after, 'after');
  let total = 0;
  let moved = 0;
  for (const key of keys) {
    total++;
    if (from(key) !== to(key)) moved++;
  }
  return total === 0 ? 0 : moved / total;
}

/**
 * Keys per node for a key sample, with max/mean. Nodes listed in `nodes` (or a ring's
 * `servers`) count even when they receive no key.
 *
 * @throws InvalidOptionError when `router` is neither a function nor has `getNode`
 */
export function measureBalance(
  router: KeyRouter,
  keys: Iterable<string | Uint8Array>,
  nodes?: readonly string[],
): BalanceReport {
  const route = toRoute(router, 'router');
  const perNode = new Map<string, number>();
  const known =
    nodes ??
    (typeof router === 'object' && Array.isArray((router as { servers?: unknown }).servers)
      ? (router as unknown as { servers: readonly { address: string }[] }).servers.map((s) => s.address)
      : []);
  for (const node of known) perNode.set(node, 0);
  let count = 0;
  for (const key of keys) {
    count++;
    const node = route(key);
    if (node === undefined) continue;
    perNode.set(node, (perNode.get(node) ?? 0) + 1);
  }
  let max = 0;
  let min = perNode.size === 0 ? 0 : Number.POSITIVE_INFINITY;
  let routed = 0;
  for (const n of perNode.values()) {
    routed += n;
    if (n > max) max = n;
    if (n < min) min = n;
  }
  const mean = perNode.size === 0 ? 0 : routed / perNode.size;
  return { perNode, keys: count, mean, max, min, maxOverMean: mean === 0 ? 0 : max / mean };
}
