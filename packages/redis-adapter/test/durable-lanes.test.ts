import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createDurableLanes } from '../src/internal/durable-lanes';

/** Lane stand-ins: only `status` is read before a write is sent. */
const fakeClients = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ status: 'ready', id: i }) as unknown as Redis);
const idOf = (client: Redis) => (client as unknown as { id: number }).id;

/** A write whose connection stays busy until `release()` (the WAIT reply in the real backend). */
function heldWrite() {
  let release!: () => void;
  const busyUntil = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { busyUntil, release };
}

describe('createDurableLanes', () => {
  it('sends concurrent writes of different keys on different connections', async () => {
    const lanes = createDurableLanes(fakeClients(3));
    const holds = [heldWrite(), heldWrite(), heldWrite()];
    const used = await Promise.all(
      ['a', 'b', 'c'].map((key, i) =>
        lanes.use([key], (c) => ({ result: Promise.resolve(idOf(c)), busyUntil: holds[i]!.busyUntil })),
      ),
    );
    expect(new Set(used).size).toBe(3);
    for (const hold of holds) hold.release();
  });

  it('keeps a key on the connection of its write in flight, so its writes apply in call order', async () => {
    const lanes = createDurableLanes(fakeClients(3));
    const first = heldWrite();
    const laneA = await lanes.use(['a'], (c) => ({
      result: Promise.resolve(idOf(c)),
      busyUntil: first.busyUntil,
    }));
    const other = heldWrite();
    const laneB = await lanes.use(['b'], (c) => ({
      result: Promise.resolve(idOf(c)),
      busyUntil: other.busyUntil,
    }));
    const again = await lanes.use(['x', 'a'], (c) => ({
      result: Promise.resolve(idOf(c)),
      busyUntil: Promise.resolve(),
    }));
    expect(laneB).not.toBe(laneA);
    expect(again).toBe(laneA);
    first.release();
    other.release();
  });

  it('frees a connection once its WAIT is answered, and after a write that failed', async () => {
    const lanes = createDurableLanes(fakeClients(2));
    const hold = heldWrite();
    const busy = await lanes.use(['a'], (c) => ({
      result: Promise.resolve(idOf(c)),
      busyUntil: hold.busyUntil,
    }));
    // While `a` holds its lane, another key goes to the free one.
    const free = await lanes.use(['b'], (c) => ({
      result: Promise.resolve(idOf(c)),
      busyUntil: Promise.resolve(),
    }));
    expect(free).not.toBe(busy);
    hold.release();
    await hold.busyUntil;
    await Promise.resolve();
    // Both idle again: `a` is no longer pinned, the least busy (first) lane takes it.
    const after = await lanes.use(['a'], (c) => ({
      result: Promise.resolve(idOf(c)),
      busyUntil: Promise.resolve(),
    }));
    expect(after).toBe(0);
    await expect(
      lanes.use(['c'], () => ({
        result: Promise.reject(new Error('SET failed')),
        busyUntil: Promise.reject(new Error('closed')),
      })),
    ).rejects.toThrow('SET failed');
    await Promise.resolve();
    const next = await lanes.use(['d'], (c) => ({
      result: Promise.resolve(idOf(c)),
      busyUntil: Promise.resolve(),
    }));
    expect(next).toBe(0);
  });
});
