import type { ManualClock } from '@dc/core';
import { createEntry, createManualClock, isDcError } from '@dc/core';
import { afterEach, describe, expect, it } from 'vitest';
import type { AttachInvalidationBusOptions, InvalidationBus, InvalidationLink, L1Store } from '../src/index';
import { attachInvalidationBus, createInProcessBus, createL1Store } from '../src/index';

const START = 1_700_000_000_000;
// Bus logic does not depend on the storage engine; the engines are covered in l1-store.test.ts.
const BACKEND = 'node-cache' as const;

interface Node {
  readonly l1: L1Store<number>;
  readonly link: InvalidationLink;
}

/** An in-process bus whose publish can be made to fail, as a bus whose Redis is down. */
function flakyBus() {
  const inner = createInProcessBus();
  let down = false;
  let attempts = 0;
  const bus: InvalidationBus = {
    name: 'flaky',
    publish(message) {
      attempts++;
      return down ? Promise.reject(new Error('bus down')) : inner.publish(message);
    },
    subscribe: (handler, options) => inner.subscribe(handler, options),
    close: () => inner.close(),
  };
  return {
    bus,
    inner,
    setDown(value: boolean) {
      down = value;
    },
    attempts: () => attempts,
  };
}

const stores: L1Store<number>[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

function makeNodes(
  bus: InvalidationBus,
  clock: ManualClock,
  names: readonly string[],
  options: AttachInvalidationBusOptions = {},
): Node[] {
  return names.map((name) => {
    const l1 = createL1Store<number>({ backend: BACKEND, clock, defaultTtlMs: 5_000 });
    stores.push(l1);
    const link = attachInvalidationBus(l1, bus, { instanceId: name, ...options });
    return { l1, link };
  });
}

const entryAt = (clock: ManualClock, value: number) =>
  createEntry(value, { now: clock.now(), ttlMs: 60_000 });

describe('attachInvalidationBus', () => {
  it('evicts a key in B and C when A writes or deletes it', async () => {
    const clock = createManualClock(START);
    const bus = createInProcessBus();
    const [a, b, c] = makeNodes(bus, clock, ['a', 'b', 'c']) as [Node, Node, Node];
    for (const node of [b, c]) node.l1.fillSync('k', entryAt(clock, 0));
    a.l1.setSync('k', entryAt(clock, 1));
    expect(b.l1.getSync('k')).toBeUndefined();
    expect(c.l1.getSync('k')).toBeUndefined();
    expect(a.l1.getSync('k')?.value).toBe(1);
    for (const node of [b, c]) node.l1.fillSync('k', entryAt(clock, 1));
    await a.l1.delete('k');
    expect(b.l1.getSync('k')).toBeUndefined();
    expect(c.l1.getSync('k')).toBeUndefined();
    expect(b.link.stats().received).toBe(2);
  });

  it('ignores its own messages', () => {
    const clock = createManualClock(START);
    const bus = createInProcessBus();
    const [a] = makeNodes(bus, clock, ['a', 'b']) as [Node, Node];
    a.l1.setSync('k', entryAt(clock, 1));
    expect(a.l1.getSync('k')?.value).toBe(1);
    expect(a.link.stats()).toMatchObject({ ignoredOwn: 1, received: 0, published: 0 });
  });

  it('counts a publish once the bus accepted it', async () => {
    const clock = createManualClock(START);
    const [a] = makeNodes(createInProcessBus(), clock, ['a']) as [Node];
    a.l1.setSync('k', entryAt(clock, 1));
    await clock.advanceAsync(0);
    expect(a.link.stats().published).toBe(1);
  });

  it('publishes a batch write as one message', async () => {
    const clock = createManualClock(START);
    const bus = createInProcessBus();
    const seen: string[][] = [];
    bus.subscribe((m) => seen.push([...(m.keys ?? [])]));
    const [a] = makeNodes(bus, clock, ['a']) as [Node];
    await a.l1.setMany([
      ['x', entryAt(clock, 1)],
      ['y', entryAt(clock, 2)],
    ]);
    await a.l1.deleteMany(['x', 'y']);
    expect(seen).toEqual([
      ['x', 'y'],
      ['x', 'y'],
    ]);
  });

  it('does not publish fills', () => {
    const clock = createManualClock(START);
    const bus = createInProcessBus();
    const [a, b] = makeNodes(bus, clock, ['a', 'b']) as [Node, Node];
    a.l1.fillSync('k', entryAt(clock, 1));
    b.l1.fillSync('k', entryAt(clock, 1));
    expect(a.l1.getSync('k')?.value).toBe(1);
    expect(b.l1.getSync('k')?.value).toBe(1);
  });

  it('refuses a fill that started before another instance changed the key', () => {
    const clock = createManualClock(START);
    const bus = createInProcessBus();
    const [a, b] = makeNodes(bus, clock, ['a', 'b']) as [Node, Node];
    const token = b.l1.beginFill();
    a.l1.setSync('k', entryAt(clock, 2));
    expect(b.l1.fillSync('k', entryAt(clock, 1), token)).toBe(false);
    expect(b.l1.getSync('k')).toBeUndefined();
  });

  it('flushes every L1 on clear, and only its namespace when one is set', async () => {
    const clock = createManualClock(START);
    const bus = createInProcessBus();
    const [t1a] = makeNodes(bus, clock, ['t1a'], { namespace: 'tenant-1' }) as [Node];
    const [t1b] = makeNodes(bus, clock, ['t1b'], { namespace: 'tenant-1' }) as [Node];
    const [t2] = makeNodes(bus, clock, ['t2'], { namespace: 'tenant-2' }) as [Node];
    const [global] = makeNodes(bus, clock, ['global']) as [Node];
    for (const node of [t1b, t2, global]) node.l1.fillSync('k', entryAt(clock, 1));

    t1a.l1.setSync('k', entryAt(clock, 2));
    expect(t1b.l1.getSync('k')).toBeUndefined();
    expect(t2.l1.getSync('k')?.value).toBe(1);
    expect(global.l1.getSync('k')?.value).toBe(1);

    t1b.l1.fillSync('k', entryAt(clock, 2));
    await t1a.l1.clear();
    expect(t1b.l1.size).toBe(0);
    expect(t2.l1.getSync('k')?.value).toBe(1);

    await global.l1.clear();
    expect(t2.l1.size).toBe(0);
  });

  it('flushes the L1 when the bus reports a gap', () => {
    const clock = createManualClock(START);
    const bus = createInProcessBus();
    const [a, b] = makeNodes(bus, clock, ['a', 'b']) as [Node, Node];
    a.l1.fillSync('k', entryAt(clock, 1));
    b.l1.fillSync('k', entryAt(clock, 1));
    bus.simulateGap();
    expect(a.l1.size).toBe(0);
    expect(b.l1.size).toBe(0);
    expect(a.link.stats().resyncs).toBe(1);
  });

  it('lets every node read the last write after a publish outage heals (FAULTS D6)', async () => {
    const clock = createManualClock(START);
    const flaky = flakyBus();
    const maxPendingKeys = 100;
    const maxRetryDelayMs = 1_000;
    const nodes = makeNodes(flaky.bus, clock, ['a', 'b', 'c'], {
      retryDelayMs: 100,
      maxRetryDelayMs,
      maxPendingKeys,
    });
    const l2 = new Map<string, number>();
    const read = (node: Node): number | undefined => {
      const hit = node.l1.getSync('k');
      if (hit) return hit.value;
      const value = l2.get('k');
      if (value !== undefined) node.l1.fillSync('k', entryAt(clock, value));
      return value;
    };
    const write = (node: Node, value: number) => {
      l2.set('k', value);
      node.l1.setSync('k', entryAt(clock, value));
    };

    flaky.setDown(true);
    for (const [i, node] of nodes.entries()) {
      write(node, i + 1);
      for (const reader of nodes) read(reader);
      await clock.advanceAsync(50);
      for (const n of nodes) expect(n.link.stats().pendingKeys).toBeLessThanOrEqual(maxPendingKeys);
    }
    // While the bus is down, A and B still serve their stale values.
    expect(nodes.map(read)).toEqual([1, 2, 3]);
    await clock.advanceAsync(3_000);
    expect(nodes.map(read)).toEqual([1, 2, 3]);
    expect(nodes[0]?.link.stats().publishFailures).toBeGreaterThan(1);

    flaky.setDown(false);
    await clock.advanceAsync(maxRetryDelayMs);
    expect(nodes.map(read)).toEqual([3, 3, 3]);
    for (const n of nodes) expect(n.link.stats()).toMatchObject({ pendingKeys: 0, pendingClear: false });
  });

  it('flushes the L1 and broadcasts a clear when the retry queue overflows', async () => {
    const clock = createManualClock(START);
    const flaky = flakyBus();
    const [a, b] = makeNodes(flaky.bus, clock, ['a', 'b'], { maxPendingKeys: 3, retryDelayMs: 100 }) as [
      Node,
      Node,
    ];
    for (let i = 0; i < 5; i++) b.l1.fillSync(`k${i}`, entryAt(clock, 0));
    flaky.setDown(true);
    for (let i = 0; i < 5; i++) {
      a.l1.setSync(`k${i}`, entryAt(clock, 1));
      await clock.advanceAsync(0);
      expect(a.link.stats().pendingKeys).toBeLessThanOrEqual(3);
    }
    expect(a.link.stats()).toMatchObject({ overflows: 1, pendingClear: true });
    // The keys written before the overflow were flushed with it; later writes stay.
    expect(a.l1.getSync('k0')).toBeUndefined();
    expect(b.l1.size).toBe(5);

    flaky.setDown(false);
    await clock.advanceAsync(1_000);
    expect(b.l1.size).toBe(0);
    expect(a.link.stats()).toMatchObject({ pendingKeys: 0, pendingClear: false });
  });

  it('backs off between retries up to maxRetryDelayMs', async () => {
    const clock = createManualClock(START);
    const flaky = flakyBus();
    const [a] = makeNodes(flaky.bus, clock, ['a'], { retryDelayMs: 100, maxRetryDelayMs: 400 }) as [Node];
    flaky.setDown(true);
    a.l1.setSync('k', entryAt(clock, 1));
    await clock.advanceAsync(0);
    const attemptsAt = (ms: number) => clock.advanceAsync(ms).then(() => flaky.attempts());
    // First attempt, then retries after 100, 200, 400, 400 ms.
    expect(flaky.attempts()).toBe(1);
    expect(await attemptsAt(100)).toBe(2);
    expect(await attemptsAt(199)).toBe(2);
    expect(await attemptsAt(1)).toBe(3);
    expect(await attemptsAt(400)).toBe(4);
    expect(await attemptsAt(400)).toBe(5);
  });

  it('reports failed publishes to onError', async () => {
    const clock = createManualClock(START);
    const flaky = flakyBus();
    const errors: unknown[] = [];
    const [a] = makeNodes(flaky.bus, clock, ['a'], { onError: (e) => errors.push(e) }) as [Node];
    flaky.setDown(true);
    a.l1.setSync('k', entryAt(clock, 1));
    await clock.advanceAsync(0);
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toBe('bus down');
  });

  it('stops publishing and receiving after detach, and leaves no timer behind', async () => {
    const clock = createManualClock(START);
    const flaky = flakyBus();
    const [a, b] = makeNodes(flaky.bus, clock, ['a', 'b']) as [Node, Node];
    flaky.setDown(true);
    a.l1.setSync('pending', entryAt(clock, 1));
    await clock.advanceAsync(0);
    expect(clock.pendingTimers()).toBeGreaterThan(0);
    await a.link.detach();
    await a.link.detach();
    expect(clock.pendingTimers()).toBe(0);
    flaky.setDown(false);
    b.l1.fillSync('k', entryAt(clock, 1));
    a.l1.setSync('k', entryAt(clock, 2));
    expect(b.l1.getSync('k')?.value).toBe(1);
    a.l1.fillSync('j', entryAt(clock, 1));
    b.l1.setSync('j', entryAt(clock, 2));
    expect(a.l1.getSync('j')?.value).toBe(1);
  });

  it('is detached by the L1 close, retry timer included', async () => {
    const clock = createManualClock(START);
    const flaky = flakyBus();
    const [a] = makeNodes(flaky.bus, clock, ['a']) as [Node];
    flaky.setDown(true);
    a.l1.setSync('k', entryAt(clock, 1));
    await clock.advanceAsync(0);
    expect(clock.pendingTimers()).toBeGreaterThan(0);
    await a.l1.close();
    expect(clock.pendingTimers()).toBe(0);
    expect(flaky.inner.subscriberCount).toBe(0);
  });

  it('flushes pending publishes on demand', async () => {
    const clock = createManualClock(START);
    const flaky = flakyBus();
    const [a, b] = makeNodes(flaky.bus, clock, ['a', 'b'], {
      retryDelayMs: 10_000,
      maxRetryDelayMs: 10_000,
    }) as [Node, Node];
    b.l1.fillSync('k', entryAt(clock, 0));
    flaky.setDown(true);
    a.l1.setSync('k', entryAt(clock, 1));
    await clock.advanceAsync(0);
    flaky.setDown(false);
    await a.link.flush();
    expect(b.l1.getSync('k')).toBeUndefined();
  });

  it('rejects a store not made by createL1Store, a second bus, and bad options', () => {
    const bus = createInProcessBus();
    const errorOf = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return error as Error;
      }
      throw new Error('expected a throw');
    };
    expect(
      isDcError(
        errorOf(() => attachInvalidationBus({} as L1Store<unknown>, bus)),
        'E_INVALID_OPTION',
      ),
    ).toBe(true);
    const l1 = createL1Store<number>({ backend: BACKEND });
    stores.push(l1);
    for (const [name, options] of [
      ['instanceId', { instanceId: '' }],
      ['retryDelayMs', { retryDelayMs: 0 }],
      ['maxRetryDelayMs', { retryDelayMs: 500, maxRetryDelayMs: 100 }],
      ['maxPendingKeys', { maxPendingKeys: 0 }],
      ['namespace', { namespace: 7 }],
    ] as const) {
      const error = errorOf(() => attachInvalidationBus(l1, bus, options as AttachInvalidationBusOptions));
      expect(isDcError(error, 'E_INVALID_OPTION')).toBe(true);
      expect(error.message).toContain(`\`${name}\``);
    }
    attachInvalidationBus(l1, bus);
    expect(
      isDcError(
        errorOf(() => attachInvalidationBus(l1, bus)),
        'E_INVALID_OPTION',
      ),
    ).toBe(true);
  });
});

describe('createL1Store invalidation option', () => {
  it('attaches at construction and detaches, without closing the bus, on close', async () => {
    const clock = createManualClock(START);
    const bus = createInProcessBus();
    const a = createL1Store<number>({ backend: BACKEND, clock, invalidation: { bus, instanceId: 'a' } });
    const b = createL1Store<number>({ backend: BACKEND, clock, invalidation: { bus, instanceId: 'b' } });
    stores.push(b);
    expect(a.invalidation?.instanceId).toBe('a');
    b.fillSync('k', entryAt(clock, 1));
    a.setSync('k', entryAt(clock, 2));
    expect(b.getSync('k')).toBeUndefined();
    expect(bus.subscriberCount).toBe(2);
    await a.close();
    expect(bus.subscriberCount).toBe(1);
    await expect(bus.publish({ version: 1, origin: 'x', clear: true })).resolves.toBeUndefined();
  });
});
