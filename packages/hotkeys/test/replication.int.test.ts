import { createEntry, createManualClock } from '@dc/core';
import { createSlotMap, parseClusterShards, type SlotMap } from '@dc/hashing';
import { type RedisClusterHandle, runningProcessCount, seededRandom, startCluster } from '@dc/testkit';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHotKeyDetector, withHotKeyReplicas } from '../src/index';
import { createTestClusterStore } from './support/cluster-store';

describe('withHotKeyReplicas on a 6-node Redis Cluster', () => {
  let cluster: RedisClusterHandle;
  let client: Cluster;
  let slotMap: SlotMap;

  beforeAll(async () => {
    cluster = await startCluster();
    client = new Cluster(cluster.startupNodes(), { lazyConnect: true });
    client.on('error', () => {});
    await client.connect();
    const shards = await client.call('CLUSTER', 'SHARDS');
    slotMap = createSlotMap(parseClusterShards(shards, { fallbackHost: '127.0.0.1' }));
  });

  afterAll(async () => {
    client?.disconnect();
    await cluster?.stop();
    expect(runningProcessCount()).toBe(0);
  });

  /** The port of the primary owning `key`, asked of the cluster itself (CLUSTER KEYSLOT + slot ranges). */
  async function ownerPort(key: string): Promise<number> {
    const node = cluster.nodes[0];
    if (node === undefined) throw new Error('no node');
    const slot = Number(await node.command('CLUSTER', 'KEYSLOT', key));
    return (await cluster.primaryForSlot(slot)).port;
  }

  it('places the replicas of one key on 3 distinct primaries and keeps every copy in step with writes and deletes', async () => {
    const key = 'profile:celebrity:42';
    const store = withHotKeyReplicas<{ name: string; n: number }>({ keys: [key], replicas: 3, slotMap })(
      createTestClusterStore(client),
    );
    const names = store.replicaKeysOf(key);
    expect(names).toHaveLength(3);
    const ports = await Promise.all(names.map(ownerPort));
    expect(new Set(ports).size).toBe(3);
    expect(new Set(ports)).toEqual(new Set((await cluster.primaries()).map((p) => p.port)));

    await store.set(key, createEntry({ name: 'Ada', n: 1 }, { now: Date.now(), ttlMs: 60_000 }));
    await store.set(key, createEntry({ name: 'Ada', n: 2 }, { now: Date.now(), ttlMs: 60_000 }));
    for (const name of [key, ...names]) {
      const raw = await client.get(name);
      expect(raw, name).not.toBeNull();
      expect(JSON.parse(raw as string).v).toEqual({ name: 'Ada', n: 2 });
    }
    for (let i = 0; i < 30; i++) expect((await store.get(key))?.value).toEqual({ name: 'Ada', n: 2 });
    expect(store.metrics().replicaReads).toBe(30);
    expect(store.metrics().replicaMisses).toBe(0);

    expect(await store.delete(key)).toBe(true);
    for (const name of [key, ...names]) expect(await client.get(name), name).toBeNull();
    expect(await store.get(key)).toBeUndefined();
  });

  it('replicates a key once the detector marks it hot and spreads its reads over 3 primaries', async () => {
    const clock = createManualClock(Date.now());
    const detector = createHotKeyDetector({ windowMs: 2_000, topK: 4, threshold: 50, clock });
    const store = withHotKeyReplicas<string>({
      detector,
      replicas: 3,
      slotMap,
      random: seededRandom(11),
      clock,
    })(createTestClusterStore(client, clock.now));
    const key = '{tenant:7}:settings';
    await store.set(key, createEntry('v1', { now: clock.now(), ttlMs: 60_000 }));
    for (let i = 0; i < 200 && !detector.isHot(key); i++) {
      await store.get(key);
      clock.advance(1);
    }
    expect(detector.isHot(key)).toBe(true);
    const names = store.replicaKeysOf(key);
    expect(new Set(await Promise.all(names.map(ownerPort))).size).toBe(3);

    // Replicas were empty when the key turned hot: reads repair them from the base key.
    for (let i = 0; i < 40; i++) expect((await store.get(key))?.value).toBe('v1');
    for (const name of names) expect(JSON.parse((await client.get(name)) as string).v).toBe('v1');

    await store.set(key, createEntry('v2', { now: clock.now(), ttlMs: 60_000 }));
    for (const name of [key, ...names]) expect(JSON.parse((await client.get(name)) as string).v).toBe('v2');
    for (let i = 0; i < 20; i++) expect((await store.get(key))?.value).toBe('v2');

    await store.delete(key);
    for (const name of [key, ...names]) expect(await client.get(name)).toBeNull();
    detector.close();
  });
});
