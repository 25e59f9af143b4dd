/**
 * Ketama consistent hashing, placement-compatible with libmemcached's weighted Ketama
 * (`MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED`, `libhashkit` MD5) and twemproxy's
 * `hash: md5, distribution: ketama` (`nc_ketama.c`):
 *
 * - server `i` gets `floorf(weight_i / totalWeight * 160 / 4 * serverCount + 1e-10)` point
 *   keys, evaluated in float32 as the C code does (for some server counts, e.g. 25 or 100 equal
 *   servers, float32 yields 39 where float64 yields 40);
 * - point key `j` is `host-j` when the port is 11211 and `host:port-j` otherwise
 *   (`pointKeyFormat: 'libmemcached'`), `host:port-j` always (`'libketama'`), or
 *   `/host:port-j` (`'libmemcached-spy'`);
 * - each point key's MD5 digest yields 4 points: bytes `4a..4a+3` read little-endian;
 * - points are sorted ascending; a key is served by the first point >= the little-endian
 *   first word of MD5(key), wrapping to the first point.
 */
import { describe, InvalidOptionError } from './internal/errors';
import { ketamaKeyHash } from './internal/key-hash';
import { DIGEST, md5String } from './internal/md5';
import { MEMCACHED_DEFAULT_PORT, parseServerAddress } from './internal/server-address';

/** A server with a weight. */
export interface KetamaServer {
  /** `host:port` (port 11211 when omitted; IPv6 as `[::1]:11211`). Returned by `getNode`. */
  readonly address: string;
  /** Relative weight, a positive integer as in libmemcached and twemproxy. @default 1 */
  readonly weight?: number;
  /**
   * twemproxy's optional server name (`- 10.0.0.1:11211:1 cache-a`): when set, point keys are
   * `name-j` whatever `pointKeyFormat` says.
   */
  readonly name?: string;
}

/** How point keys are spelled; this decides placement. */
export type KetamaPointKeyFormat = 'libmemcached' | 'libketama' | 'libmemcached-spy';

/** How the per-server point count is computed. */
export type KetamaHashCountMath = 'float32' | 'float64';

/** Options of {@link createKetamaRing}. */
export interface KetamaRingOptions {
  /**
   * Point key spelling. `'libmemcached'` (also twemproxy): `host-j` on port 11211, else
   * `host:port-j`. `'libketama'` (also npm `hashring`): the address as given, `address-j`.
   * `'libmemcached-spy'` (libmemcached's `MEMCACHED_KETAMA_COMPAT_SPY` mode): `/address-j`.
   * @default 'libmemcached'
   */
  pointKeyFormat?: KetamaPointKeyFormat;
  /**
   * `'float32'`: libmemcached's and twemproxy's weighted count. `'float64'`:
   * npm `hashring`'s `Math.floor(weight / total * 40 * serverCount)`.
   * @default 'float32'
   */
  hashCountMath?: KetamaHashCountMath;
  /**
   * Bound (entries) of an optional `getNode` result cache for string keys, kept as two
   * generations of half the bound each (recently used keys survive); cleared on `add`/`remove`.
   * Worth it only for hot key sets: an uncached lookup costs about one short MD5. `0` disables it.
   * @default 0
   */
  resultCacheSize?: number;
}

/** Defaults of {@link KetamaRingOptions}. */
export const DEFAULT_KETAMA_RING_OPTIONS: Readonly<Required<KetamaRingOptions>> = Object.freeze({
  pointKeyFormat: 'libmemcached',
  hashCountMath: 'float32',
  resultCacheSize: 0,
});

/** One point of the continuum, for inspection. */
export interface KetamaPoint {
  /** Position on the ring, 0..2^32-1. */
  readonly point: number;
  /** Address of the server owning the point. */
  readonly server: string;
  /** The string whose MD5 produced the point. */
  readonly pointKey: string;
  /** Which 4-byte word (0..3) of that digest the point is. */
  readonly alignment: number;
}

/** A Ketama ring. Keys are strings (hashed as UTF-8) or exact bytes. */
export interface KetamaRing {
  /**
   * The server for `key`.
   * @throws InvalidKeyError (`E_INVALID_KEY`) when `key` is neither a string nor a `Uint8Array`
   */
  getNode(key: string | Uint8Array): string;
  /**
   * Up to `count` distinct servers for `key`, walking the ring from the key's point (for
   * replicas); the first is `getNode(key)`. Returns every server when `count` exceeds them.
   * @throws InvalidOptionError when `count` is not a positive integer
   */
  getNodes(key: string | Uint8Array, count: number): string[];
  /**
   * Adds a server and rebuilds the continuum (every weight share changes, as in libmemcached).
   * @throws InvalidOptionError on a bad address or weight, or a server already on the ring
   */
  add(server: string | KetamaServer): void;
  /**
   * Removes a server by address (`host` and `host:11211` name the same server).
   * @throws InvalidOptionError when the server is not on the ring or is the last one
   */
  remove(address: string): void;
  /** The servers in insertion order, with their resolved weights. */
  readonly servers: readonly Required<Pick<KetamaServer, 'address' | 'weight'>>[];
  /** The sorted continuum (built on first access after each change). */
  readonly continuum: readonly KetamaPoint[];
  /** Number of hash rounds (point keys) per server, in `servers` order: points = 4x this. */
  readonly hashesPerServer: readonly number[];
}

interface ResolvedServer {
  readonly address: string;
  readonly weight: number;
  readonly identity: string;
  readonly pointKeyPrefix: string;
}

const POINTS_PER_SERVER = 160;
const POINTS_PER_HASH = 4;
// Continuum entries are sorted as `point * 2^21 + insertionIndex` in one Float64Array, which
// keeps ties in insertion order and stays below 2^53.
const INDEX_BITS = 2 ** 21;

function resolveServer(input: unknown, format: KetamaPointKeyFormat, inputName: string): ResolvedServer {
  let address: unknown;
  let weight: unknown = 1;
  let name: unknown;
  if (typeof input === 'string') {
    address = input;
  } else if (typeof input === 'object' && input !== null) {
    ({ address, weight = 1, name } = input as KetamaServer);
  } else {
    throw new InvalidOptionError(
      `[dc:hashing] \`${inputName}\` must be "host:port" or { address, weight }, got ${describe(input)}`,
    );
  }
  if (typeof address !== 'string') {
    throw new InvalidOptionError(
      `[dc:hashing] \`${inputName}.address\` must be a "host:port" string, got ${describe(address)}`,
    );
  }
  if (typeof weight !== 'number' || !Number.isInteger(weight) || weight <= 0 || weight > 0xffffffff) {
    throw new InvalidOptionError(
      `[dc:hashing] \`${inputName}.weight\` of ${describe(address)} must be a positive integer (libmemcached weights are uint32), got ${describe(weight)}`,
    );
  }
  if (name !== undefined && (typeof name !== 'string' || name.length === 0)) {
    throw new InvalidOptionError(
      `[dc:hashing] \`${inputName}.name\` must be a non-empty string when set, got ${describe(name)}`,
    );
  }
  const { host, port } = parseServerAddress(address, `${inputName}.address`);
  let pointKeyPrefix: string;
  if (name !== undefined) pointKeyPrefix = name;
  else if (format === 'libketama') pointKeyPrefix = address;
  else if (format === 'libmemcached-spy') pointKeyPrefix = `/${address}`;
  else pointKeyPrefix = port === MEMCACHED_DEFAULT_PORT ? host : `${host}:${port}`;
  return { address, weight, identity: `${host}:${port}`, pointKeyPrefix };
}

function hashCount(weight: number, totalWeight: number, serverCount: number, math: KetamaHashCountMath) {
  if (math === 'float64') return Math.floor((weight / totalWeight) * 40 * serverCount);
  const f = Math.fround;
  // libmemcached: floor((float)(pct * 160 / 4 * (float)n + 0.0000000001)) with `float pct`.
  const pct = f(f(weight) / f(totalWeight));
  const perHash = f(f(f(pct * POINTS_PER_SERVER) / POINTS_PER_HASH) * f(serverCount));
  return Math.floor(f(perHash + 0.0000000001));
}

function resolveKetamaRingOptions(options: KetamaRingOptions | undefined): Required<KetamaRingOptions> {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new InvalidOptionError(`[dc:hashing] \`options\` must be an object, got ${describe(options)}`);
  }
  const resolved = { ...DEFAULT_KETAMA_RING_OPTIONS, ...options };
  for (const key of Object.keys(resolved) as (keyof KetamaRingOptions)[]) {
    if (resolved[key] === undefined)
      (resolved as Record<string, unknown>)[key] = DEFAULT_KETAMA_RING_OPTIONS[key];
  }
  const { pointKeyFormat, hashCountMath, resultCacheSize } = resolved;
  if (
    pointKeyFormat !== 'libmemcached' &&
    pointKeyFormat !== 'libketama' &&
    pointKeyFormat !== 'libmemcached-spy'
  ) {
    throw new InvalidOptionError(
      `[dc:hashing] \`pointKeyFormat\` must be 'libmemcached', 'libketama' or 'libmemcached-spy', got ${describe(pointKeyFormat)}`,
    );
  }
  if (hashCountMath !== 'float32' && hashCountMath !== 'float64') {
    throw new InvalidOptionError(
      `[dc:hashing] \`hashCountMath\` must be 'float32' or 'float64', got ${describe(hashCountMath)}`,
    );
  }
  if (!Number.isSafeInteger(resultCacheSize) || resultCacheSize < 0) {
    throw new InvalidOptionError(
      `[dc:hashing] \`resultCacheSize\` must be a non-negative integer, got ${describe(resultCacheSize)}`,
    );
  }
  return resolved;
}

class Ring implements KetamaRing {
  private readonly options: Required<KetamaRingOptions>;
  private list: ResolvedServer[];
  private addresses: string[] = [];
  private points = new Uint32Array(0);
  private owners = new Uint32Array(0);
  private sources = new Uint32Array(0);
  private counts: number[] = [];
  private pointView: readonly KetamaPoint[] | undefined;
  private serverView: readonly Required<Pick<KetamaServer, 'address' | 'weight'>>[] = [];
  private readonly cacheLimit: number;
  private young: Record<string, string> = Object.create(null);
  private old: Record<string, string> = Object.create(null);
  private youngSize = 0;
  private seen = new Uint32Array(0);
  private seenGeneration = 0;

  constructor(list: ResolvedServer[], options: Required<KetamaRingOptions>) {
    this.options = options;
    this.list = list;
    // Each generation holds half of the bound, so both together hold at most `resultCacheSize`.
    this.cacheLimit = options.resultCacheSize > 0 ? Math.max(1, Math.ceil(options.resultCacheSize / 2)) : 0;
    this.rebuild();
  }

  getNode(key: string | Uint8Array): string {
    if (this.cacheLimit > 0 && typeof key === 'string') return this.getCached(key);
    return this.addresses[this.owners[this.find(ketamaKeyHash(key, 'key'))] as number] as string;
  }

  // Two generations (quick-lru's scheme): a hit in the old one is promoted, and when the young
  // one is full it becomes the old one, so there is no per-entry bookkeeping. Null-prototype
  // dictionaries rather than Maps: V8 internalizes strings used as property names, and on the
  // hot-key bench they measured ~2.5x hashring's LRU where a Map measured 0.9x.
  private getCached(key: string): string {
    let node = this.young[key];
    if (node !== undefined) return node;
    node = this.old[key];
    if (node === undefined)
      node = this.addresses[this.owners[this.find(ketamaKeyHash(key, 'key'))] as number] as string;
    if (this.youngSize >= this.cacheLimit) {
      this.old = this.young;
      this.young = Object.create(null);
      this.youngSize = 0;
    }
    this.young[key] = node;
    this.youngSize++;
    return node;
  }

  getNodes(key: string | Uint8Array, count: number): string[] {
    if (!Number.isSafeInteger(count) || count < 1) {
      throw new InvalidOptionError(
        `[dc:hashing] \`count\` must be a positive integer, got ${describe(count)}`,
      );
    }
    const start = this.find(ketamaKeyHash(key, 'key'));
    const wanted = Math.min(count, this.list.length);
    const result: string[] = [];
    // Generation marks avoid clearing `seen` per call; wrap before exceeding Uint32 storage.
    if (this.seenGeneration === 0xffffffff) {
      this.seen.fill(0);
      this.seenGeneration = 0;
    }
    const generation = ++this.seenGeneration;
    const { owners, seen } = this;
    const total = owners.length;
    for (let step = 0; step < total && result.length < wanted; step++) {
      const owner = owners[(start + step) % total] as number;
      if (seen[owner] === generation) continue;
      seen[owner] = generation;
      result.push(this.addresses[owner] as string);
    }
    return result;
  }

  add(server: string | KetamaServer): void {
    const resolved = resolveServer(server, this.options.pointKeyFormat, 'server');
    if (this.list.some((s) => s.identity === resolved.identity)) {
      throw new InvalidOptionError(
        `[dc:hashing] server ${describe(resolved.address)} is already on the ring (as ${describe(resolved.identity)})`,
      );
    }
    this.list = [...this.list, resolved];
    this.rebuild();
  }

  remove(address: string): void {
    if (typeof address !== 'string') {
      throw new InvalidOptionError(`[dc:hashing] \`address\` must be a string, got ${describe(address)}`);
    }
    const { host, port } = parseServerAddress(address, 'address');
    const identity = `${host}:${port}`;
    const index = this.list.findIndex((s) => s.identity === identity);
    if (index === -1) {
      throw new InvalidOptionError(`[dc:hashing] server ${describe(address)} is not on the ring`);
    }
    if (this.list.length === 1) {
      throw new InvalidOptionError(
        `[dc:hashing] cannot remove ${describe(address)}: it is the last server; create a new ring instead`,
      );
    }
    this.list = this.list.filter((_, i) => i !== index);
    this.rebuild();
  }

  get servers(): readonly Required<Pick<KetamaServer, 'address' | 'weight'>>[] {
    return this.serverView;
  }

  get hashesPerServer(): readonly number[] {
    return this.counts;
  }

  get continuum(): readonly KetamaPoint[] {
    if (this.pointView === undefined) {
      const starts: number[] = [];
      let offset = 0;
      for (const count of this.counts) {
        starts.push(offset);
        offset += count * POINTS_PER_HASH;
      }
      const view: KetamaPoint[] = [];
      for (let i = 0; i < this.points.length; i++) {
        const owner = this.owners[i] as number;
        const local = (this.sources[i] as number) - (starts[owner] as number);
        const server = this.list[owner] as ResolvedServer;
        view.push(
          Object.freeze({
            point: this.points[i] as number,
            server: server.address,
            pointKey: `${server.pointKeyPrefix}-${Math.floor(local / POINTS_PER_HASH)}`,
            alignment: local % POINTS_PER_HASH,
          }),
        );
      }
      this.pointView = Object.freeze(view);
    }
    return this.pointView;
  }

  /** Index of the first point >= `hash`, wrapping to 0 (libmemcached's `dispatch_host`). */
  private find(hash: number): number {
    const points = this.points;
    let left = 0;
    let right = points.length;
    while (left < right) {
      const middle = (left + right) >>> 1;
      if ((points[middle] as number) < hash) left = middle + 1;
      else right = middle;
    }
    return right === points.length ? 0 : right;
  }

  private rebuild(): void {
    const list = this.list;
    const n = list.length;
    let totalWeight = 0;
    for (const server of list) totalWeight += server.weight;
    const counts = list.map((s) => hashCount(s.weight, totalWeight, n, this.options.hashCountMath));
    const totalPoints = counts.reduce((sum, c) => sum + c * POINTS_PER_HASH, 0);
    if (totalPoints >= INDEX_BITS) {
      throw new InvalidOptionError(
        `[dc:hashing] too many servers for one ring: ${n} (${totalPoints} points)`,
      );
    }
    const packed = new Float64Array(totalPoints);
    const ownerOf = new Uint32Array(totalPoints);
    let index = 0;
    for (let s = 0; s < n; s++) {
      const prefix = (list[s] as ResolvedServer).pointKeyPrefix;
      const count = counts[s] as number;
      for (let h = 0; h < count; h++) {
        md5String(`${prefix}-${h}`);
        for (let a = 0; a < POINTS_PER_HASH; a++) {
          packed[index] = ((DIGEST[a] as number) >>> 0) * INDEX_BITS + index;
          ownerOf[index] = s;
          index++;
        }
      }
    }
    packed.sort();
    const points = new Uint32Array(totalPoints);
    const owners = new Uint32Array(totalPoints);
    const sources = new Uint32Array(totalPoints);
    for (let i = 0; i < totalPoints; i++) {
      const value = packed[i] as number;
      const source = value % INDEX_BITS;
      points[i] = (value - source) / INDEX_BITS;
      sources[i] = source;
      owners[i] = ownerOf[source] as number;
    }
    this.points = points;
    this.owners = owners;
    this.sources = sources;
    this.counts = Object.freeze(counts) as number[];
    this.addresses = list.map((s) => s.address);
    this.serverView = Object.freeze(list.map((s) => Object.freeze({ address: s.address, weight: s.weight })));
    this.pointView = undefined;
    this.seen = new Uint32Array(n);
    this.seenGeneration = 0;
    this.young = Object.create(null);
    this.old = Object.create(null);
    this.youngSize = 0;
  }
}

/**
 * Creates a Ketama ring whose placement is bit-for-bit that of libmemcached's weighted Ketama
 * and twemproxy's `md5` + `ketama` (see the module header for the algorithm).
 *
 * @param servers `"host:port"` strings or `{ address, weight }` objects, at least one
 * @throws InvalidOptionError when `servers` is empty or not an array, an address or weight is
 *   invalid, two entries name the same server, or an option is invalid
 */
export function createKetamaRing(
  servers: readonly (string | KetamaServer)[],
  options?: KetamaRingOptions,
): KetamaRing {
  const resolvedOptions = resolveKetamaRingOptions(options);
  if (!Array.isArray(servers) || servers.length === 0) {
    throw new InvalidOptionError(
      `[dc:hashing] \`servers\` must be a non-empty array of "host:port" or { address, weight }, got ${describe(servers)}`,
    );
  }
  const list: ResolvedServer[] = [];
  const seen = new Map<string, string>();
  servers.forEach((input, i) => {
    const server = resolveServer(input, resolvedOptions.pointKeyFormat, `servers[${i}]`);
    const previous = seen.get(server.identity);
    if (previous !== undefined) {
      throw new InvalidOptionError(
        `[dc:hashing] \`servers[${i}]\` ${describe(server.address)} duplicates ${describe(previous)}; list each server once`,
      );
    }
    seen.set(server.identity, server.address);
    list.push(server);
  });
  return new Ring(list, resolvedOptions);
}
