import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createSlotMap,
  keySlot,
  parseClusterShards,
  parseClusterSlots,
  replicaKeysOnDistinctNodes,
  type SlotRange,
} from '../src/index';

const node = (port: number, role: string, health = 'online') => [
  'id',
  `id-${port}`,
  'port',
  port,
  'ip',
  '127.0.0.1',
  'endpoint',
  '127.0.0.1',
  'role',
  role,
  'replication-offset',
  100,
  'health',
  health,
];

// CLUSTER SHARDS as ioredis (RESP2) returns it: flat key/value arrays.
const shardsReply = [
  ['slots', [0, 5460], 'nodes', [node(30001, 'master'), node(30004, 'replica')]],
  ['slots', [5461, 10922], 'nodes', [node(30005, 'replica', 'failed'), node(30002, 'master')]],
  ['slots', [10923, 12000, 12001, 16383], 'nodes', [node(30003, 'master'), node(30006, 'replica')]],
];

// CLUSTER SLOTS as ioredis returns it.
const slotsReply = [
  [0, 5460, ['127.0.0.1', 30001, 'id-30001', []], ['127.0.0.1', 30004, 'id-30004', []]],
  [5461, 10922, ['127.0.0.1', 30002, 'id-30002', []]],
  [10923, 16383, ['127.0.0.1', 30003, 'id-30003', []], ['127.0.0.1', 30006, 'id-30006', []]],
];

const threeShards: SlotRange[] = [
  { start: 0, end: 5460, primary: 'a:1', replicas: [] },
  { start: 5461, end: 10922, primary: 'b:1', replicas: [] },
  { start: 10923, end: 16383, primary: 'c:1', replicas: [] },
];

describe('parseClusterShards', () => {
  it('reads primaries, online replicas and every slot pair when given an ioredis reply', () => {
    const ranges = parseClusterShards(shardsReply);
    expect(ranges).toEqual([
      { start: 0, end: 5460, primary: '127.0.0.1:30001', replicas: ['127.0.0.1:30004'] },
      { start: 5461, end: 10922, primary: '127.0.0.1:30002', replicas: [] },
      { start: 10923, end: 12000, primary: '127.0.0.1:30003', replicas: ['127.0.0.1:30006'] },
      { start: 12001, end: 16383, primary: '127.0.0.1:30003', replicas: ['127.0.0.1:30006'] },
    ]);
  });

  it('accepts RESP3-style objects and prefers endpoint over ip', () => {
    const ranges = parseClusterShards([
      {
        slots: [0, 16383],
        nodes: [{ port: 7000, ip: '10.0.0.1', endpoint: 'redis-0.local', role: 'master' }],
      },
    ]);
    expect(ranges[0]?.primary).toBe('redis-0.local:7000');
  });

  it('uses fallbackHost when the endpoint is "?" and no ip is given, and throws without it', () => {
    const reply = [['slots', [0, 1], 'nodes', [['port', 7000, 'endpoint', '?', 'role', 'master']]]];
    expect(parseClusterShards(reply, { fallbackHost: '10.9.9.9' })[0]?.primary).toBe('10.9.9.9:7000');
    expect(() => parseClusterShards(reply)).toThrow(/fallbackHost/);
  });

  it('skips shards without slots and throws E_INVALID_OPTION naming the path when malformed', () => {
    expect(parseClusterShards([['slots', [], 'nodes', [node(1, 'master')]]])).toEqual([]);
    expect(() => parseClusterShards('nope')).toThrow(/`reply`/);
    expect(() => parseClusterShards([['slots', [0, 99999], 'nodes', [node(1, 'master')]]])).toThrow(
      /`reply\[0\]\.slots\[1\]`/,
    );
    expect(() => parseClusterShards([['slots', [5, 1], 'nodes', [node(1, 'master')]]])).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION' }),
    );
  });
});

describe('parseClusterSlots', () => {
  it('reads ranges with primary first and replicas after when given an ioredis reply', () => {
    expect(parseClusterSlots(slotsReply)).toEqual([
      { start: 0, end: 5460, primary: '127.0.0.1:30001', replicas: ['127.0.0.1:30004'] },
      { start: 5461, end: 10922, primary: '127.0.0.1:30002', replicas: [] },
      { start: 10923, end: 16383, primary: '127.0.0.1:30003', replicas: ['127.0.0.1:30006'] },
    ]);
  });

  it('uses fallbackHost for an empty endpoint and throws naming the path when the reply is malformed', () => {
    expect(parseClusterSlots([[0, 5, ['', 7000]]], { fallbackHost: 'h' })[0]?.primary).toBe('h:7000');
    expect(() => parseClusterSlots([[0, 5, ['', 7000]]])).toThrow(/`reply\[0\]\[2\]`/);
    expect(() => parseClusterSlots([[0, 5]])).toThrow(/`reply\[0\]`/);
    expect(() => parseClusterSlots([[0, 5, ['h', 'port']]])).toThrow(/`reply\[0\]\[2\]\[1\]`/);
  });
});

describe('createSlotMap', () => {
  it('routes every slot like the CLUSTER SHARDS and CLUSTER SLOTS replies say', () => {
    const fromShards = createSlotMap(parseClusterShards(shardsReply));
    const fromSlots = createSlotMap(parseClusterSlots(slotsReply));
    for (const slot of [0, 5460, 5461, 10922, 10923, 12000, 12001, 16383]) {
      expect(fromShards.nodeForSlot(slot)).toBe(fromSlots.nodeForSlot(slot));
    }
    expect(fromShards.nodeForSlot(5460)).toBe('127.0.0.1:30001');
    expect(fromShards.replicasForSlot(0)).toEqual(['127.0.0.1:30004']);
    expect(fromShards.coveredSlots).toBe(16384);
    expect(fromShards.nodes).toEqual(['127.0.0.1:30001', '127.0.0.1:30002', '127.0.0.1:30003']);
    expect(fromSlots.ranges()).toEqual(parseClusterSlots(slotsReply));
  });

  it('routes a key by its slot, hash tags included', () => {
    const map = createSlotMap(threeShards);
    expect(keySlot('{user1000}.following')).toBe(3443);
    expect(map.nodeForKey('{user1000}.following')).toBe('a:1');
    expect(map.nodeForKey(Buffer.from('{user1000}x'))).toBe('a:1');
  });

  it('leaves uncovered slots without a node', () => {
    const map = createSlotMap([{ start: 0, end: 9, primary: 'a:1', replicas: [] }]);
    expect(map.nodeForSlot(10)).toBeUndefined();
    expect(map.replicasForSlot(10)).toEqual([]);
    expect(map.coveredSlots).toBe(10);
  });

  it('throws E_INVALID_OPTION naming the range when a range is malformed', () => {
    expect(() => createSlotMap([{ start: 0, end: 16384, primary: 'a:1', replicas: [] }])).toThrow(
      /`ranges\[0\]\.end`/,
    );
    expect(() => createSlotMap([{ start: 3, end: 1, primary: 'a:1', replicas: [] }])).toThrow(
      /`ranges\[0\]`/,
    );
    expect(() => createSlotMap([{ start: 0, end: 1, primary: '', replicas: [] }])).toThrow(
      /`ranges\[0\]\.primary`/,
    );
  });
});

describe('SlotMap.applyMoved', () => {
  it('moves one slot to the redirect target and returns it when given a MOVED error', () => {
    const map = createSlotMap(threeShards);
    expect(map.applyMoved(new Error('MOVED 3999 10.0.0.9:6381'))).toBe('10.0.0.9:6381');
    expect(map.nodeForSlot(3999)).toBe('10.0.0.9:6381');
    expect(map.nodeForSlot(3998)).toBe('a:1');
    expect(map.replicasForSlot(3999)).toEqual([]);
    expect(map.nodes).toContain('10.0.0.9:6381');
    expect(map.applyMoved('MOVED 4000 10.0.0.9:6381')).toBe('10.0.0.9:6381');
    expect(map.ranges().find((r) => r.start === 3999)).toMatchObject({ end: 4000, primary: '10.0.0.9:6381' });
  });

  it('uses fallbackHost for an empty endpoint', () => {
    const map = createSlotMap(threeShards);
    expect(map.applyMoved('MOVED 1 :7001', { fallbackHost: '10.1.1.1' })).toBe('10.1.1.1:7001');
    expect(() => map.applyMoved('MOVED 1 :7001')).toThrow(/fallbackHost/);
  });

  it('throws E_INVALID_OPTION when given an ASK redirect or another error', () => {
    const map = createSlotMap(threeShards);
    for (const bad of ['ASK 3999 10.0.0.9:6381', 'ERR nope', new Error('CROSSSLOT'), 'MOVED 20000 h:1', 42]) {
      expect(() => map.applyMoved(bad as never)).toThrow(
        expect.objectContaining({ code: 'E_INVALID_OPTION' }),
      );
    }
    expect(map.nodeForSlot(3999)).toBe('a:1');
  });
});

describe('SlotMap.groupBySlot / groupByNode', () => {
  const map = createSlotMap(threeShards);

  it('puts every key in exactly the group of its slot, in first-seen order (seed 6601)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('{t}a', '{t}b', 'x')), {
          maxLength: 60,
        }),
        (keys) => {
          const groups = map.groupBySlot(keys);
          const flattened = [...groups.values()].flat();
          return (
            flattened.length === keys.length &&
            [...groups].every(
              ([slot, group]) =>
                JSON.stringify(group) === JSON.stringify(keys.filter((k) => keySlot(k) === slot)),
            )
          );
        },
      ),
      { seed: 6601, numRuns: 200 },
    );
  });

  it('groups keys by the primary of their slot', () => {
    const keys = Array.from({ length: 300 }, (_, i) => `k:${i}`);
    const groups = map.groupByNode(keys);
    expect([...groups.values()].flat().sort()).toEqual([...keys].sort());
    for (const [nodeId, group] of groups) for (const key of group) expect(map.nodeForKey(key)).toBe(nodeId);
  });

  it('throws E_STORE_UNAVAILABLE naming the key when its slot has no node', () => {
    const partial = createSlotMap([{ start: 0, end: 100, primary: 'a:1', replicas: [] }]);
    const key = 'user1000';
    expect(() => partial.groupByNode([key])).toThrow(
      expect.objectContaining({ code: 'E_STORE_UNAVAILABLE' }),
    );
    expect(() => partial.groupByNode([key])).toThrow(/slot 3443 of key "user1000"/);
  });

  it('throws E_INVALID_KEY when a key is not a string or bytes', () => {
    expect(() => map.groupBySlot([1 as never])).toThrow(expect.objectContaining({ code: 'E_INVALID_KEY' }));
  });
});

describe('replicaKeysOnDistinctNodes', () => {
  const sixPrimaries = createSlotMap(
    Array.from({ length: 6 }, (_, i) => ({
      start: Math.floor((i * 16384) / 6),
      end: Math.floor(((i + 1) * 16384) / 6) - 1,
      primary: `n${i}:1`,
      replicas: [],
    })),
  );

  it('names count keys key#i on distinct primaries when count <= primaries (seed 6602)', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 20 }).filter((k) => !k.includes('{')),
        fc.integer({ min: 1, max: 6 }),
        (key, count) => {
          const names = replicaKeysOnDistinctNodes(sixPrimaries, key, count);
          const nodes = names.map((n) => sixPrimaries.nodeForKey(n));
          return (
            names.length === count &&
            names.every((n) => new RegExp(`^${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}#\\d+$`).test(n)) &&
            new Set(nodes).size === count
          );
        },
      ),
      { seed: 6602, numRuns: 200 },
    );
  });

  it('puts the suffix inside the hash tag so a tagged key still spreads', () => {
    const names = replicaKeysOnDistinctNodes(sixPrimaries, '{user:1}:profile', 4);
    for (const name of names) expect(name).toMatch(/^\{user:1#\d+\}:profile$/);
    expect(new Set(names.map((n) => sixPrimaries.nodeForKey(n))).size).toBe(4);
  });

  it('returns the same names every time for the same map', () => {
    expect(replicaKeysOnDistinctNodes(sixPrimaries, 'hot', 3)).toEqual(
      replicaKeysOnDistinctNodes(sixPrimaries, 'hot', 3),
    );
  });

  it('covers every primary once then cycles when count exceeds the primaries', () => {
    const names = replicaKeysOnDistinctNodes(sixPrimaries, 'hot', 9);
    const nodes = names.map((n) => sixPrimaries.nodeForKey(n));
    expect(new Set(names).size).toBe(9);
    expect(new Set(nodes.slice(0, 6)).size).toBe(6);
    expect(nodes.slice(6)).toEqual(nodes.slice(0, 3));
  });

  it('throws naming the input when count is bad, the key is not a string or the map is empty', () => {
    expect(() => replicaKeysOnDistinctNodes(sixPrimaries, 'k', 0)).toThrow(/`count`/);
    expect(() => replicaKeysOnDistinctNodes(sixPrimaries, 5 as never, 2)).toThrow(
      expect.objectContaining({ code: 'E_INVALID_KEY' }),
    );
    expect(() => replicaKeysOnDistinctNodes(createSlotMap(), 'k', 2)).toThrow(/`slotMap`/);
  });
});
