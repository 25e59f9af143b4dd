import { type RedisNode, startRedis } from '@dc/testkit';
import fc from 'fast-check';
import Redis from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSlotMap, keySlot, parseClusterShards, parseClusterSlots } from '../src/index';

let node: RedisNode;
let client: Redis;

beforeAll(async () => {
  // CLUSTER KEYSLOT needs cluster mode; one node with no slots assigned is enough for it.
  node = await startRedis({ clusterEnabled: true });
  client = new Redis({ host: node.host, port: node.port, lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
});

afterAll(async () => {
  client?.disconnect();
  await node?.stop();
});

async function redisSlots(keys: readonly (string | Buffer)[]): Promise<number[]> {
  const pipeline = client.pipeline();
  for (const key of keys) pipeline.call('CLUSTER', 'KEYSLOT', key);
  const results = (await pipeline.exec()) ?? [];
  return results.map(([error, slot]) => {
    if (error) throw error;
    return slot as number;
  });
}

describe('keySlot (live redis-server)', () => {
  it('equals CLUSTER KEYSLOT for 4000 random string and binary keys (seed 7701)', async () => {
    const braces = fc
      .array(fc.constantFrom('{', '}', 'a', 'b', ':', '1', 'é', '😀', '\ud800'), { maxLength: 16 })
      .map((parts) => parts.join(''));
    const strings = fc.sample(fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), braces), {
      seed: 7701,
      numRuns: 2000,
    });
    const binary = fc
      .sample(
        fc.oneof(
          fc.uint8Array({ maxLength: 48 }),
          fc
            .array(fc.constantFrom(0x7b, 0x7d, 0x00, 0xff, 0xc3, 0x41), { maxLength: 16 })
            .map((b) => Uint8Array.from(b)),
        ),
        { seed: 7702, numRuns: 2000 },
      )
      .map((bytes) => Buffer.from(bytes));

    // Redis receives strings as their UTF-8 bytes (lone surrogates as EF BF BD), like keySlot.
    const expectedStrings = await redisSlots(strings.map((s) => Buffer.from(s, 'utf8')));
    const expectedBinary = await redisSlots(binary);
    const mismatches: string[] = [];
    strings.forEach((key, i) => {
      if (keySlot(key) !== expectedStrings[i]) mismatches.push(`string ${JSON.stringify(key)}`);
    });
    binary.forEach((key, i) => {
      if (keySlot(key) !== expectedBinary[i]) mismatches.push(`bytes ${key.toString('hex')}`);
    });
    expect(mismatches).toEqual([]);
    expect(expectedStrings).toHaveLength(2000);
    expect(expectedBinary).toHaveLength(2000);
  });

  it('equals CLUSTER KEYSLOT on the hash-tag corner cases', async () => {
    const keys = ['foo{}{bar}', 'foo{{bar}}zap', 'foo{bar}{zap}', '{bar', '{}', '}{', '{a}', '', 'x{y}z{w}'];
    expect(keys.map(keySlot)).toEqual(await redisSlots(keys));
  });
});

describe('parseClusterShards / parseClusterSlots (live redis-server)', () => {
  it('build a slot map covering every slot on the node when given the real replies', async () => {
    await client.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
    const shards = await client.call('CLUSTER', 'SHARDS');
    const slots = await client.call('CLUSTER', 'SLOTS');
    // A lone node has not learned its own IP from a peer yet, so it reports an empty endpoint:
    // the "use the host you connected to" case.
    expect(() => parseClusterShards(shards)).toThrow(/fallbackHost/);
    const options = { fallbackHost: node.host };
    for (const ranges of [parseClusterShards(shards, options), parseClusterSlots(slots, options)]) {
      const map = createSlotMap(ranges);
      expect(map.coveredSlots).toBe(16384);
      expect(map.nodes).toEqual([`127.0.0.1:${node.port}`]);
      expect(map.nodeForKey('any-key')).toBe(`127.0.0.1:${node.port}`);
    }
  });
});
