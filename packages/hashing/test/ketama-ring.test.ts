import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createKetamaRing, type KetamaPointKeyFormat } from '../src/index';
import { ketamaKeyHash } from '../src/internal/key-hash';
import { loadKetamaVectors } from './reference-data';

const vectors = loadKetamaVectors();
const servers = vectors.servers.map((s) => ({ address: s.addr, weight: s.weight }));
const equalServers = (n: number) => Array.from({ length: n }, (_, i) => `10.1.${i >> 8}.${i & 255}:11211`);

describe('createKetamaRing', () => {
  it('places every reference key on the libmemcached/twemproxy server by default', () => {
    const ring = createKetamaRing(servers);
    for (const entry of vectors.keys) expect(ring.getNode(entry.key), entry.key).toBe(entry.server);
  });

  it('places every reference key as libketama and libmemcached KETAMA_COMPAT_SPY do when pointKeyFormat says so', () => {
    const expected: Record<string, 'libketama' | 'libmemcachedKetamaSpy'> = {
      libketama: 'libketama',
      'libmemcached-spy': 'libmemcachedKetamaSpy',
    };
    for (const [format, column] of Object.entries(expected)) {
      const ring = createKetamaRing(servers, { pointKeyFormat: format as KetamaPointKeyFormat });
      for (const entry of vectors.keys)
        expect(ring.getNode(entry.key), `${format} ${entry.key}`).toBe(entry[column]);
    }
  });

  it('hashes keys and lands on the reference point when given the reference keys', () => {
    const ring = createKetamaRing(servers);
    const points = ring.continuum.map((p) => p.point);
    for (const entry of vectors.keys) {
      const hash = ketamaKeyHash(entry.key, 'key');
      expect(hash, entry.key).toBe(entry.hash);
      expect(points.find((p) => p >= hash) ?? points[0]).toBe(entry.point);
    }
  });

  it('builds the reference continuum (counts, first 20 points with their point keys)', () => {
    const ring = createKetamaRing(servers);
    expect(ring.hashesPerServer).toEqual(vectors.hashesPerServer);
    expect(ring.continuum).toHaveLength(vectors.totalPoints);
    expect(ring.continuum.slice(0, 20)).toEqual(vectors.first20Points);
  });

  it('routes a Uint8Array key like the string with the same UTF-8 bytes', () => {
    const ring = createKetamaRing(equalServers(7));
    for (const key of ['a', 'user:42', 'ключ', '😀{x}']) {
      expect(ring.getNode(Buffer.from(key, 'utf8'))).toBe(ring.getNode(key));
    }
  });

  it('computes per-server hash counts in float32 as libmemcached does when 25 or 100 equal servers', () => {
    expect(new Set(createKetamaRing(equalServers(24)).hashesPerServer)).toEqual(new Set([40]));
    // float32(1/25) * 160 / 4 * 25 rounds to 39.999996, so libmemcached and twemproxy give 39.
    expect(new Set(createKetamaRing(equalServers(25)).hashesPerServer)).toEqual(new Set([39]));
    expect(new Set(createKetamaRing(equalServers(100)).hashesPerServer)).toEqual(new Set([39]));
    expect(
      new Set(createKetamaRing(equalServers(100), { hashCountMath: 'float64' }).hashesPerServer),
    ).toEqual(new Set([40]));
  });

  it('gives servers hash counts proportional to weight when weighted', () => {
    const ring = createKetamaRing([
      { address: 'a:1', weight: 1 },
      { address: 'b:1', weight: 2 },
      { address: 'c:1', weight: 3 },
    ]);
    // floor(w/6 * 40 * 3): 20, 40, 60 (float32 keeps these exact).
    expect(ring.hashesPerServer).toEqual([20, 40, 60]);
    expect(ring.continuum.filter((p) => p.server === 'c:1')).toHaveLength(240);
  });

  it('spells point keys host-N on 11211, host:port-N elsewhere, and uses a twemproxy name when set', () => {
    const ring = createKetamaRing([
      '10.0.0.1:11211',
      '10.0.0.2:22122',
      { address: '10.0.0.3:11211', name: 'cache-c' },
    ]);
    const prefixes = new Set(ring.continuum.map((p) => p.pointKey.replace(/-\d+$/, '')));
    expect(prefixes).toEqual(new Set(['10.0.0.1', '10.0.0.2:22122', 'cache-c']));
    const libketama = createKetamaRing(['10.0.0.1:11211'], { pointKeyFormat: 'libketama' });
    expect(libketama.continuum[0]?.pointKey).toMatch(/^10\.0\.0\.1:11211-\d+$/);
  });

  it('treats a missing port as 11211 and a bracketed IPv6 host as a host', () => {
    const ring = createKetamaRing(['10.0.0.1', '[::1]:11212']);
    expect(ring.getNode('x')).toMatch(/^(10\.0\.0\.1|\[::1\]:11212)$/);
    expect(new Set(ring.continuum.map((p) => p.pointKey.replace(/-\d+$/, '')))).toEqual(
      new Set(['10.0.0.1', '::1:11212']),
    );
  });

  it('throws E_INVALID_OPTION naming the input when the server list is empty or not an array', () => {
    for (const bad of [[], undefined, 'a:1', {}]) {
      expect(() => createKetamaRing(bad as never)).toThrow(
        expect.objectContaining({ code: 'E_INVALID_OPTION' }),
      );
      expect(() => createKetamaRing(bad as never)).toThrow(/`servers`/);
    }
  });

  it('throws E_INVALID_OPTION naming both entries when a server is listed twice', () => {
    expect(() => createKetamaRing(['10.0.0.1:11211', '10.0.0.1'])).toThrow(
      /`servers\[1\]` "10\.0\.0\.1" duplicates "10\.0\.0\.1:11211"/,
    );
    expect(() => createKetamaRing(['a:1', { address: 'a:1', weight: 2 }])).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION' }),
    );
  });

  it('throws E_INVALID_OPTION naming the weight when it is <= 0, NaN, fractional or infinite', () => {
    for (const weight of [0, -1, Number.NaN, 1.5, Number.POSITIVE_INFINITY, '2']) {
      const attempt = () =>
        createKetamaRing([{ address: 'a:1' }, { address: 'b:1', weight: weight as number }]);
      expect(attempt).toThrow(
        expect.objectContaining({ code: 'E_INVALID_OPTION', name: 'InvalidOptionError' }),
      );
      expect(attempt).toThrow(/`servers\[1\]\.weight` of "b:1"/);
    }
  });

  it('throws E_INVALID_OPTION naming the address when it is malformed', () => {
    for (const address of ['', ':11211', 'host:0', 'host:70000', 'host:abc', ' host:1', '[::1', 42]) {
      expect(() => createKetamaRing([address as string]), String(address)).toThrow(
        expect.objectContaining({ code: 'E_INVALID_OPTION' }),
      );
    }
  });

  it('throws E_INVALID_OPTION naming the option when an option is invalid', () => {
    expect(() => createKetamaRing(['a:1'], { pointKeyFormat: 'ketama' as never })).toThrow(
      /`pointKeyFormat`/,
    );
    expect(() => createKetamaRing(['a:1'], { hashCountMath: 'double' as never })).toThrow(/`hashCountMath`/);
    expect(() => createKetamaRing(['a:1'], { resultCacheSize: -1 })).toThrow(/`resultCacheSize`/);
  });
});

describe('KetamaRing.getNode', () => {
  it('throws E_INVALID_KEY naming `key` when the key is not a string or bytes', () => {
    const ring = createKetamaRing(['a:1']);
    for (const bad of [1, null, undefined, {}, ['k']]) {
      expect(() => ring.getNode(bad as never)).toThrow(expect.objectContaining({ code: 'E_INVALID_KEY' }));
      expect(() => ring.getNode(bad as never)).toThrow(/`key`/);
    }
  });

  it('answers like an uncached ring when the result cache is on, also after add (seed 4401)', () => {
    const plain = createKetamaRing(equalServers(5));
    const cached = createKetamaRing(equalServers(5), { resultCacheSize: 16 });
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 200 }), (ids) => {
        return ids.every((id) => cached.getNode(`k${id}`) === plain.getNode(`k${id}`));
      }),
      { seed: 4401, numRuns: 50 },
    );
    cached.add('10.9.9.9:11211');
    plain.add('10.9.9.9:11211');
    for (let id = 0; id <= 40; id++) expect(cached.getNode(`k${id}`)).toBe(plain.getNode(`k${id}`));
  });
});

describe('KetamaRing.getNode (result cache)', () => {
  it('caches prototype-like and numeric keys correctly when the cache is small', () => {
    const plain = createKetamaRing(equalServers(9));
    const cached = createKetamaRing(equalServers(9), { resultCacheSize: 2 });
    const keys = ['__proto__', 'constructor', 'toString', '0', '1', 'hasOwnProperty', '__proto__', '0'];
    for (let round = 0; round < 3; round++) {
      for (const key of keys) expect(cached.getNode(key), key).toBe(plain.getNode(key));
    }
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
  });
});

describe('KetamaRing.getNodes', () => {
  const ring = createKetamaRing(equalServers(6));

  it('returns distinct servers starting with getNode(key) (seed 4402)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), fc.integer({ min: 1, max: 6 }), (key, n) => {
        const nodes = ring.getNodes(key, n);
        return nodes.length === n && new Set(nodes).size === n && nodes[0] === ring.getNode(key);
      }),
      { seed: 4402, numRuns: 300 },
    );
  });

  it('still returns distinct servers after the internal generation counter wraps', () => {
    const wrapped = createKetamaRing(equalServers(6));
    (wrapped as unknown as { seenGeneration: number }).seenGeneration = 0xffffffff - 1;
    for (let i = 0; i < 4; i++) expect(new Set(wrapped.getNodes(`k${i}`, 6)).size).toBe(6);
  });

  it('returns every server once when count exceeds the server count', () => {
    expect(new Set(ring.getNodes('k', 50))).toEqual(new Set(equalServers(6)));
  });

  it('throws E_INVALID_OPTION naming `count` when count is not a positive integer', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) expect(() => ring.getNodes('k', bad)).toThrow(/`count`/);
  });
});

describe('KetamaRing.add / remove', () => {
  it('restores the original placement when a server is added then removed', () => {
    const ring = createKetamaRing(equalServers(4));
    const before = Array.from({ length: 500 }, (_, i) => ring.getNode(`key:${i}`));
    ring.add({ address: '10.2.0.1:11211', weight: 3 });
    expect(ring.servers.map((s) => s.address)).toContain('10.2.0.1:11211');
    ring.remove('10.2.0.1');
    expect(Array.from({ length: 500 }, (_, i) => ring.getNode(`key:${i}`))).toEqual(before);
  });

  it('matches a ring created with the final server list after add', () => {
    const grown = createKetamaRing(equalServers(3));
    grown.add(equalServers(4)[3] as string);
    const fresh = createKetamaRing(equalServers(4));
    expect(grown.continuum).toEqual(fresh.continuum);
  });

  it('throws E_INVALID_OPTION when adding a server twice, removing an unknown one or the last one', () => {
    const ring = createKetamaRing(['a:1', 'b:1']);
    expect(() => ring.add('a:1')).toThrow(/already on the ring/);
    expect(() => ring.remove('c:1')).toThrow(/not on the ring/);
    ring.remove('b:1');
    expect(() => ring.remove('a:1')).toThrow(/last server/);
    expect(ring.servers).toEqual([{ address: 'a:1', weight: 1 }]);
  });
});
