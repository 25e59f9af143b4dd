/**
 * One circuit breaker per node: on Ketama shards and on a cluster, a dead or frozen node opens
 * the breaker for its own keys only. Ops on the other nodes' keys keep reaching Redis (read back
 * from the node directly), and no command is sent to the dead node while its breaker is open.
 */
import { createEntry, isDcError } from '@dc/core';
import { keySlot } from '@dc/hashing';
import { type RedisClusterHandle, type RedisNode, startCluster, startRedis, waitFor } from '@dc/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createRedisStore,
  failFastRedisOptions,
  namespacedKey,
  type RedisStore,
  type RedisStoreEvent,
} from '../src/index';
import { valueOn } from './chaos-helpers';

const entry = (value: number) => createEntry(value, { now: Date.now(), ttlMs: 60_000 });

describe('per-node breaker on Ketama shards (3 standalone nodes, one SIGKILLed)', () => {
  let nodes: RedisNode[];
  let clients: Redis[];
  beforeAll(async () => {
    nodes = await Promise.all([startRedis(), startRedis(), startRedis()]);
    clients = nodes.map((n) => {
      const client = new Redis({ host: '127.0.0.1', port: n.port, ...failFastRedisOptions(250) });
      client.on('error', () => {});
      return client;
    });
    await Promise.all(clients.map((c) => new Promise((resolve) => c.once('ready', resolve))));
  });
  afterAll(async () => {
    for (const c of clients ?? []) c.disconnect();
    await Promise.all((nodes ?? []).map((n) => n.stop()));
  });

  it('short-circuits only the dead node and keeps serving the others from Redis', async () => {
    const ns = 'ketama-breaker';
    const events: RedisStoreEvent[] = [];
    const store = createRedisStore<number>({
      shards: clients.map((connection) => ({ connection })),
      namespace: ns,
      breakerFailureThreshold: 3,
      breakerOpenMs: 60_000,
      onEvent: (e) => events.push(e),
    });
    const keys = Array.from({ length: 90 }, (_, i) => `user:${i}`);
    await store.setMany(keys.map((k, i) => [k, entry(i)]));
    // Where each key lives, read from the nodes themselves.
    const homes = await Promise.all(
      keys.map(async (k) => {
        for (const [i, node] of nodes.entries()) {
          if ((await valueOn(node, namespacedKey(ns, k))) !== undefined) return i;
        }
        return -1;
      }),
    );
    expect(homes).not.toContain(-1);
    const deadKeys = keys.filter((_, i) => homes[i] === 0);
    const liveKeys = keys.filter((_, i) => homes[i] !== 0);
    expect(deadKeys.length).toBeGreaterThan(5);
    expect(liveKeys.length).toBeGreaterThan(10);
    const deadAddress = `127.0.0.1:${nodes[0]?.port}`;

    const deadClient = clients[0] as Redis;
    let sentToDead = 0;
    const send = deadClient.sendCommand.bind(deadClient);
    deadClient.sendCommand = ((...args: Parameters<Redis['sendCommand']>) => {
      sentToDead++;
      return send(...args);
    }) as Redis['sendCommand'];

    await nodes[0]?.kill();
    await waitFor(() => deadClient.status !== 'ready', { timeoutMs: 5_000, what: 'client sees the kill' });
    // Three failed reads open the dead node's breaker (fail-open: misses).
    for (const k of deadKeys.slice(0, 3)) await expect(store.get(k)).resolves.toBeUndefined();
    expect(store.stats().breakers).toEqual({
      [deadAddress]: 'open',
      [`127.0.0.1:${nodes[1]?.port}`]: 'closed',
      [`127.0.0.1:${nodes[2]?.port}`]: 'closed',
    });
    expect(events).toContainEqual({ type: 'store:breaker', state: 'open', node: deadAddress });

    const sentBefore = sentToDead;
    const shortBefore = store.stats().shortCircuits;
    // Single-key ops on live keys reach their nodes.
    for (const [j, k] of liveKeys.slice(0, 10).entries()) {
      await store.set(k, entry(1_000 + j));
      const home = nodes[homes[keys.indexOf(k)] as number] as RedisNode;
      expect(await valueOn(home, namespacedKey(ns, k))).toBe(1_000 + j);
      expect((await store.get(k))?.value).toBe(1_000 + j);
    }
    // Batches over both: the live groups are written and read, the dead group is skipped.
    const mixed = [...liveKeys.slice(10, 30), ...deadKeys.slice(3)];
    await store.setMany(mixed.map((k, i) => [k, entry(2_000 + i)]));
    for (const [i, k] of mixed.entries()) {
      const home = homes[keys.indexOf(k)] as number;
      if (home !== 0) expect(await valueOn(nodes[home] as RedisNode, namespacedKey(ns, k))).toBe(2_000 + i);
    }
    const read = await store.getMany(mixed);
    mixed.forEach((k, i) => {
      expect(read[i]?.value).toBe(homes[keys.indexOf(k)] === 0 ? undefined : 2_000 + i);
    });
    await expect(store.deleteMany(liveKeys.slice(10, 15))).resolves.toBe(5);
    for (const k of liveKeys.slice(10, 15)) {
      expect(await valueOn(nodes[homes[keys.indexOf(k)] as number] as RedisNode, namespacedKey(ns, k))).toBe(
        undefined,
      );
    }
    for (const k of deadKeys) await expect(store.get(k)).resolves.toBeUndefined();

    expect(sentToDead - sentBefore).toBe(0);
    const shorted = events.filter((e) => e.type === 'store:short-circuit');
    // The batch's dead group was refused, so its keys are pending: read as misses without even
    // asking the breaker. The three keys read first still meet the breaker, as does the group.
    expect(store.stats().pendingInvalidations).toBe(deadKeys.length - 3);
    expect(store.stats().shortCircuits - shortBefore).toBeGreaterThanOrEqual(4);
    expect(new Set(shorted.map((e) => (e as { node?: string }).node))).toEqual(new Set([deadAddress]));
    expect(store.stats().breaker).toBe('open');

    // The node returns: the client's `ready` probes its breaker, and its keys are served again.
    await nodes[0]?.restart();
    await waitFor(() => deadClient.status === 'ready', { timeoutMs: 5_000, what: 'client reconnects' });
    await store.set(deadKeys[0] as string, entry(7));
    expect(await valueOn(nodes[0] as RedisNode, namespacedKey(ns, deadKeys[0] as string))).toBe(7);
    expect(store.stats().breakers[deadAddress]).toBe('closed');
    await store.close();
  });

  it('rejects typed for the dead node only in fail-closed mode', async () => {
    await waitFor(() => clients.every((c) => c.status === 'ready'), { timeoutMs: 5_000, what: 'all ready' });
    const store = createRedisStore<number>({
      shards: clients.map((connection) => ({ connection })),
      namespace: 'ketama-closed',
      failMode: 'closed',
      breakerFailureThreshold: 2,
      breakerOpenMs: 60_000,
    });
    const keys = Array.from({ length: 60 }, (_, i) => `k:${i}`);
    await store.setMany(keys.map((k, i) => [k, entry(i)]));
    const onFirst = await Promise.all(
      keys.map(
        async (k) => (await valueOn(nodes[0] as RedisNode, namespacedKey('ketama-closed', k))) !== undefined,
      ),
    );
    await nodes[0]?.kill();
    await waitFor(() => clients[0]?.status !== 'ready', { timeoutMs: 5_000, what: 'client sees the kill' });
    const deadKeys = keys.filter((_, i) => onFirst[i]);
    const liveKeys = keys.filter((_, i) => !onFirst[i]);
    for (const k of deadKeys.slice(0, 4)) {
      expect(isDcError(await store.get(k).catch((e: unknown) => e), 'E_STORE_UNAVAILABLE')).toBe(true);
    }
    const refused = await store.get(deadKeys[4] as string).catch((e: unknown) => e);
    expect(isDcError(refused, 'E_STORE_UNAVAILABLE')).toBe(true);
    expect((refused as Error).message).toContain(`127.0.0.1:${nodes[0]?.port}`);
    for (const k of liveKeys) expect((await store.get(k))?.value).toBe(keys.indexOf(k));
    // A batch that touches the dead node is refused as a whole in fail-closed mode.
    expect(isDcError(await store.getMany(keys).catch((e: unknown) => e), 'E_STORE_UNAVAILABLE')).toBe(true);
    expect((await store.getMany(liveKeys)).map((e) => e?.value)).toEqual(
      liveKeys.map((k) => keys.indexOf(k)),
    );
    await store.close();
    await nodes[0]?.restart();
  });
});

describe('per-node breaker on a cluster (one primary frozen)', () => {
  let cluster: RedisClusterHandle;
  beforeAll(async () => {
    // A long node timeout: the frozen primary is not failed over during the test.
    cluster = await startCluster({ nodeTimeoutMs: 15_000 });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('short-circuits the frozen primary’s slots and keeps serving the others', async () => {
    const ns = 'cluster-breaker';
    const events: RedisStoreEvent[] = [];
    const store: RedisStore<number> = createRedisStore<number>({
      cluster: { nodes: cluster.startupNodes() },
      namespace: ns,
      breakerFailureThreshold: 3,
      breakerOpenMs: 60_000,
      onEvent: (e) => events.push(e),
    });
    const ranges = await cluster.slotRanges();
    const frozen = ranges[0]?.primary as RedisNode;
    const ownerOf = (k: string) =>
      ranges.find((r) => r.start <= keySlot(namespacedKey(ns, k)) && keySlot(namespacedKey(ns, k)) <= r.end)
        ?.primary as RedisNode;
    const keys = Array.from({ length: 60 }, (_, i) => `item:${i}`);
    await store.setMany(keys.map((k, i) => [k, entry(i)]));
    // On a loaded box the first batch can outlast the hard timeout while the cluster client
    // starts; its keys would then read as misses without meeting the frozen node's breaker.
    await waitFor(() => store.stats().pendingInvalidations === 0, {
      timeoutMs: 5_000,
      what: 'the first batch’s failed keys to be repaired',
    });
    const frozenKeys = keys.filter((k) => ownerOf(k) === frozen);
    const liveKeys = keys.filter((k) => ownerOf(k) !== frozen);
    expect(frozenKeys.length).toBeGreaterThan(3);
    const frozenAddress = `127.0.0.1:${frozen.port}`;

    frozen.freeze();
    try {
      for (const k of frozenKeys.slice(0, 3)) await expect(store.get(k)).resolves.toBeUndefined();
      expect(store.stats().breakers[frozenAddress]).toBe('open');
      const timeoutsBefore = events.filter((e) => e.type === 'store:timeout').length;
      const t0 = performance.now();
      await store.setMany(liveKeys.map((k, i) => [k, entry(500 + i)]));
      const read = await store.getMany(keys);
      for (const k of frozenKeys) await expect(store.get(k)).resolves.toBeUndefined();
      const elapsed = performance.now() - t0;
      keys.forEach((k, i) => {
        expect(read[i]?.value).toBe(ownerOf(k) === frozen ? undefined : 500 + liveKeys.indexOf(k));
      });
      for (const k of liveKeys.slice(0, 10)) {
        expect(await valueOn(ownerOf(k), namespacedKey(ns, k))).toBe(500 + liveKeys.indexOf(k));
      }
      // Nothing waited on the frozen node: no timeouts while its breaker was open.
      expect(events.filter((e) => e.type === 'store:timeout').length).toBe(timeoutsBefore);
      expect(elapsed).toBeLessThan(1_000);
      const shorted = events.filter((e) => e.type === 'store:short-circuit');
      expect(new Set(shorted.map((e) => (e as { node?: string }).node))).toEqual(new Set([frozenAddress]));
      expect(Object.values(store.stats().breakers).filter((s) => s !== 'closed')).toEqual(['open']);
    } finally {
      frozen.resume();
    }
    await store.close();
  });
});
