import { isDcError } from '@dc/core';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createRedisStore, namespacedKey } from '../src/index';

// A client that never connects (port 1, lazy): anything the store sends would show as a call.
const clients: Redis[] = [];
const idleClient = () => {
  const client = new Redis({ lazyConnect: true, port: 1 });
  clients.push(client);
  return client;
};
afterEach(() => {
  for (const client of clients.splice(0)) client.disconnect();
});

describe('getMany validates every key before it sends anything', () => {
  it('rejects with E_INVALID_KEY when any key of the batch is bad, without an MGET', async () => {
    const client = idleClient();
    const mget = vi.spyOn(client, 'mget');
    const store = createRedisStore({ client, namespace: 'ns' });
    const keys = Array.from({ length: 100 }, (_, i) => `k${i}`);
    for (const bad of ['', 'x'.repeat(1025), 7 as unknown as string]) {
      for (const at of [0, 50, 99]) {
        const batch = keys.with(at, bad);
        const error = await store.getMany(batch).catch((e: unknown) => e);
        expect(isDcError(error, 'E_INVALID_KEY'), `${String(bad).slice(0, 8)} at ${at}`).toBe(true);
      }
    }
    expect(mget).not.toHaveBeenCalled();
    await store.close();
    const error = await store.getMany(['a']).catch((e: unknown) => e);
    expect(isDcError(error, 'E_CLOSED')).toBe(true);
  });

  it('sends the namespaced keys in order', async () => {
    const client = idleClient();
    Object.defineProperty(client, 'status', { value: 'ready' });
    const mget = vi.spyOn(client, 'mget').mockResolvedValue([null, null, null]);
    const store = createRedisStore({ client, namespace: 'ns' });
    expect(await store.getMany(['a', 'b\uD800', 'c'])).toEqual([undefined, undefined, undefined]);
    expect(mget).toHaveBeenCalledWith(['a', 'b\uD800', 'c'].map((k) => namespacedKey('ns', k)));
    expect(store.stats().misses).toBe(3);
    await store.close();
  });
});
