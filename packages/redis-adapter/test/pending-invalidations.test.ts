import { createEntry } from '@dc/core';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createRedisStore, namespacedKey } from '../src/index';
import { createPendingInvalidations } from '../src/internal/pending-invalidations';

describe('createPendingInvalidations', () => {
  it('clears a key only by a success issued after its failure was recorded', () => {
    const pending = createPendingInvalidations(10);
    const early = pending.issue();
    const failing = pending.issue();
    pending.fail(['k']);
    expect(pending.covers('k')).toBe(true);
    // `early` started before the failure: Redis may hold its older value.
    pending.succeed(['k'], early);
    pending.succeed(['k'], failing);
    expect(pending.covers('k')).toBe(true);
    pending.succeed(['k'], pending.issue());
    expect(pending.covers('k')).toBe(false);
    expect(pending.size).toBe(0);
  });

  it('collapses into the whole namespace past maxKeys, until a clear issued after it succeeds', () => {
    const pending = createPendingInvalidations(3);
    pending.issue();
    pending.fail(['a', 'b', 'c']);
    expect(pending.wholeNamespace).toBe(false);
    const before = pending.issue();
    pending.fail(['d']);
    expect(pending.wholeNamespace).toBe(true);
    expect(pending.covers('never-written')).toBe(true);
    expect(pending.take(10)).toEqual([]);
    pending.succeedAll(before);
    expect(pending.wholeNamespace).toBe(true);
    pending.succeedAll(pending.issue());
    expect(pending.wholeNamespace).toBe(false);
    expect(pending.size).toBe(0);
  });

  it('hands out the oldest failures first, a key that failed again moving to the back', () => {
    const pending = createPendingInvalidations(10);
    pending.issue();
    pending.fail(['a', 'b', 'c']);
    pending.fail(['a']);
    expect(pending.take(2)).toEqual(['b', 'c']);
    expect(pending.take(10)).toEqual(['b', 'c', 'a']);
  });
});

// A client that reports `ready` but never connects: every command is a spy.
const clients: Redis[] = [];
const readyClient = () => {
  const client = new Redis({ lazyConnect: true, port: 1 });
  Object.defineProperty(client, 'status', { value: 'ready' });
  clients.push(client);
  return client;
};
afterEach(() => {
  for (const client of clients.splice(0)) client.disconnect();
});

const entry = (value: string) => createEntry(value, { now: Date.now(), ttlMs: 60_000 });

describe('a store with a failed write', () => {
  it('answers the key as a miss without reading Redis, then deletes it and reads it again', async () => {
    const client = readyClient();
    const set = vi.spyOn(client, 'set').mockRejectedValue(new Error('connection lost'));
    const get = vi.spyOn(client, 'get').mockResolvedValue(null);
    const mget = vi.spyOn(client, 'mget').mockResolvedValue([null]);
    const unlink = vi.spyOn(client, 'unlink').mockRejectedValue(new Error('connection lost'));
    const store = createRedisStore<string>({ client, namespace: 'ns' });

    await store.set('k', entry('v'));
    expect(store.stats().pendingInvalidations).toBe(1);
    expect(await store.get('k')).toBeUndefined();
    expect(get).not.toHaveBeenCalled();
    expect(await store.getMany(['k', 'other'])).toEqual([undefined, undefined]);
    expect(mget).toHaveBeenCalledWith([namespacedKey('ns', 'other')]);
    // The repair keeps trying while Redis refuses it.
    await vi.waitFor(() => expect(unlink.mock.calls.length).toBeGreaterThan(1), { timeout: 2_000 });
    expect(store.stats().pendingInvalidations).toBe(1);

    unlink.mockResolvedValue(1);
    await vi.waitFor(() => expect(store.stats().pendingInvalidations).toBe(0), { timeout: 2_000 });
    expect(unlink).toHaveBeenLastCalledWith(namespacedKey('ns', 'k'));
    await store.get('k');
    expect(get).toHaveBeenCalledWith(namespacedKey('ns', 'k'));
    expect(set).toHaveBeenCalledTimes(1);
    await store.close();
  });

  it('reads every key as a miss after a failed clear(), until its own clear succeeds', async () => {
    const client = readyClient();
    const scan = vi.spyOn(client, 'scan').mockRejectedValue(new Error('connection lost'));
    const get = vi.spyOn(client, 'get').mockResolvedValue(null);
    const store = createRedisStore<string>({ client, namespace: 'ns' });
    await store.clear();
    expect(store.stats().pendingInvalidations).toBe(1);
    expect(await store.get('anything')).toBeUndefined();
    expect(get).not.toHaveBeenCalled();
    scan.mockResolvedValue(['0', []]);
    await vi.waitFor(() => expect(store.stats().pendingInvalidations).toBe(0), { timeout: 2_000 });
    await store.get('anything');
    expect(get).toHaveBeenCalledTimes(1);
    await store.close();
  });

  it('stops repairing on close()', async () => {
    const client = readyClient();
    vi.spyOn(client, 'del').mockRejectedValue(new Error('connection lost'));
    vi.spyOn(client, 'set').mockRejectedValue(new Error('connection lost'));
    const unlink = vi.spyOn(client, 'unlink').mockRejectedValue(new Error('connection lost'));
    const store = createRedisStore<string>({ client, namespace: 'ns' });
    await store.set('k', entry('v'));
    await store.close();
    const calls = unlink.mock.calls.length;
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(unlink.mock.calls.length).toBe(calls);
  });

  it('rejects maxPendingInvalidations below 1 with E_INVALID_OPTION naming it', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      expect(() => createRedisStore({ client: readyClient(), maxPendingInvalidations: bad })).toThrowError(
        /maxPendingInvalidations/,
      );
    }
  });
});
