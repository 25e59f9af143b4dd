/**
 * The contract every InvalidationBus implementation passes. Import it by relative path from
 * another package's tests and give it a harness:
 *
 * ```ts
 * import { runInvalidationBusContract } from '../../l1/test/bus-contract';
 * runInvalidationBusContract('redis bus', async () => {
 *   const server = await startRedis();
 *   let n = 0;
 *   return {
 *     channel: () => {
 *       const name = `dc:inv:test:${n++}`;
 *       return { open: () => createRedisBus({ url: server.url, channel: name }) };
 *     },
 *     teardown: () => server.stop(),
 *   };
 * });
 * ```
 *
 * Delivery is awaited by polling in real time (a network bus needs it); "nothing was
 * delivered" is proven with a later sentinel message, since delivery keeps publish order.
 */
import { isDcError } from '@dc/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Invalidation, InvalidationBus } from '../src/index';

/** One fresh channel of the bus under test; endpoints opened on it reach each other. */
export interface BusContractChannel {
  /** Opens one endpoint: the connection another process would hold. May return the same bus every time. */
  open(): InvalidationBus | Promise<InvalidationBus>;
  /**
   * Makes `bus` lose its connection and reconnect, so its subscribers get `onGap`. Omit when
   * the transport cannot lose messages; the gap test is then skipped.
   */
  interrupt?(bus: InvalidationBus): Promise<void>;
}

/** What {@link runInvalidationBusContract} needs from an implementation. */
export interface BusContractHarness {
  /** A new channel per test, so tests cannot see each other's messages. */
  channel(): BusContractChannel | Promise<BusContractChannel>;
  /** Releases what setup created (servers). Endpoints are closed by the suite. */
  teardown?(): Promise<void>;
}

/** Options of {@link runInvalidationBusContract}. */
export interface BusContractOptions {
  /** How long to wait for a delivery (ms of real time). @default 2000 */
  deliveryTimeoutMs?: number;
}

/** Registers the invalidation-bus contract tests for one implementation. */
export function runInvalidationBusContract(
  name: string,
  setup: () => BusContractHarness | Promise<BusContractHarness>,
  options: BusContractOptions = {},
): void {
  const { deliveryTimeoutMs = 2_000 } = options;

  describe(`InvalidationBus contract: ${name}`, () => {
    let harness: BusContractHarness;
    let channel: BusContractChannel;
    let opened: InvalidationBus[] = [];

    beforeAll(async () => {
      harness = await setup();
    });
    afterAll(async () => {
      await harness?.teardown?.();
    });
    afterEach(async () => {
      await Promise.all([...new Set(opened)].map((bus) => bus.close()));
      opened = [];
    });

    const open = async (count: number): Promise<InvalidationBus[]> => {
      channel = await harness.channel();
      const buses: InvalidationBus[] = [];
      for (let i = 0; i < count; i++) buses.push(await channel.open());
      opened.push(...buses);
      return buses;
    };

    const waitFor = async (condition: () => boolean, what: string): Promise<void> => {
      const deadline = Date.now() + deliveryTimeoutMs;
      while (!condition()) {
        if (Date.now() > deadline)
          throw new Error(`timed out after ${deliveryTimeoutMs} ms waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };

    const recorder = () => {
      const received: Invalidation[] = [];
      return { received, handler: (message: Invalidation) => received.push(message) };
    };

    const msg = (origin: string, extra: Partial<Invalidation>): Invalidation => ({
      version: 1,
      origin,
      ...extra,
    });

    it('delivers a message to subscribers of every endpoint, the publisher included', async () => {
      const [a, b, c] = (await open(3)) as [InvalidationBus, InvalidationBus, InvalidationBus];
      const recorders = [recorder(), recorder(), recorder()];
      [a, b, c].forEach((bus, i) => {
        bus.subscribe((recorders[i] as ReturnType<typeof recorder>).handler);
      });
      const sent = msg('node-a', { keys: ['user:1', 'user:2'], namespace: 'tenant-1' });
      await a.publish(sent);
      await waitFor(() => recorders.every((r) => r.received.length >= 1), 'three deliveries');
      for (const r of recorders) expect(r.received).toEqual([sent]);
    });

    it('delivers a clear with and without a namespace, fields intact', async () => {
      const [a, b] = (await open(2)) as [InvalidationBus, InvalidationBus];
      const r = recorder();
      b.subscribe(r.handler);
      const flushAll = msg('node-a', { clear: true });
      const flushTenant = msg('node-a', { clear: true, namespace: 'tenant-2' });
      await a.publish(flushAll);
      await a.publish(flushTenant);
      await waitFor(() => r.received.length >= 2, 'two deliveries');
      expect(r.received).toEqual([flushAll, flushTenant]);
    });

    it('keeps the publish order of one publisher', async () => {
      const [a, b] = (await open(2)) as [InvalidationBus, InvalidationBus];
      const r = recorder();
      b.subscribe(r.handler);
      const count = 50;
      await Promise.all(
        Array.from({ length: count }, (_, i) => a.publish(msg('node-a', { keys: [`k${i}`] }))),
      );
      await waitFor(() => r.received.length >= count, `${count} deliveries`);
      expect(r.received.map((m) => m.keys?.[0])).toEqual(Array.from({ length: count }, (_, i) => `k${i}`));
    });

    it('round-trips awkward keys exactly', async () => {
      const [a, b] = (await open(2)) as [InvalidationBus, InvalidationBus];
      const r = recorder();
      b.subscribe(r.handler);
      const keys = [
        '__proto__',
        'constructor',
        'prototype',
        'a{b}c',
        '{}',
        '*',
        '?',
        '[a-z]',
        '\\',
        ':',
        '\r\n',
        '\0',
        '\x7f',
        '\ud800',
        'caf\u00e9',
        'cafe\u0301',
        '\u202eevil',
        '🔑',
        'x'.repeat(1024),
      ];
      await a.publish(msg('node-a', { keys }));
      await waitFor(() => r.received.length >= 1, 'one delivery');
      expect(r.received[0]?.keys).toEqual(keys);
    });

    it('delivers a message of 1,000 keys whole', async () => {
      const [a, b] = (await open(2)) as [InvalidationBus, InvalidationBus];
      const r = recorder();
      b.subscribe(r.handler);
      const keys = Array.from({ length: 1_000 }, (_, i) => `key:${i}`);
      await a.publish(msg('node-a', { keys }));
      await waitFor(() => r.received.length >= 1, 'one delivery');
      expect(r.received[0]?.keys).toEqual(keys);
    });

    it('stops calling a handler once unsubscribed, and unsubscribe is idempotent', async () => {
      const [a, b] = (await open(2)) as [InvalidationBus, InvalidationBus];
      const gone = recorder();
      const kept = recorder();
      const unsubscribe = b.subscribe(gone.handler);
      b.subscribe(kept.handler);
      unsubscribe();
      unsubscribe();
      await a.publish(msg('node-a', { keys: ['first'] }));
      await a.publish(msg('node-a', { keys: ['sentinel'] }));
      await waitFor(() => kept.received.length >= 2, 'the sentinel');
      expect(gone.received).toEqual([]);
    });

    it('rejects a malformed message with E_INVALID_OPTION and delivers nothing of it', async () => {
      const [a, b] = (await open(2)) as [InvalidationBus, InvalidationBus];
      const r = recorder();
      b.subscribe(r.handler);
      const malformed: unknown[] = [
        null,
        'keys',
        { origin: 'node-a', keys: ['k'] },
        { version: 2, origin: 'node-a', keys: ['k'] },
        { version: 1, origin: '', keys: ['k'] },
        { version: 1, origin: 'node-a' },
        { version: 1, origin: 'node-a', keys: [] },
        { version: 1, origin: 'node-a', keys: ['ok', 7] },
        { version: 1, origin: 'node-a', keys: [''] },
        { version: 1, origin: 'node-a', clear: 'yes' },
        { version: 1, origin: 'node-a', clear: true, namespace: 5 },
      ];
      for (const bad of malformed) {
        let publishing: Promise<void> | undefined;
        expect(() => {
          publishing = a.publish(bad as Invalidation);
        }).not.toThrow();
        const error = await publishing?.then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(isDcError(error, 'E_INVALID_OPTION'), `for ${JSON.stringify(bad)}`).toBe(true);
      }
      await a.publish(msg('node-a', { keys: ['sentinel'] }));
      await waitFor(() => r.received.length >= 1, 'the sentinel');
      expect(r.received.map((m) => m.keys)).toEqual([['sentinel']]);
    });

    it('isolates a throwing handler from other handlers and from the publisher', async () => {
      const [a, b] = (await open(2)) as [InvalidationBus, InvalidationBus];
      const r = recorder();
      b.subscribe(() => {
        throw new Error('handler failure');
      });
      b.subscribe(r.handler);
      await expect(a.publish(msg('node-a', { keys: ['k1'] }))).resolves.toBeUndefined();
      await a.publish(msg('node-a', { keys: ['k2'] }));
      await waitFor(() => r.received.length >= 2, 'two deliveries');
      expect(r.received.map((m) => m.keys?.[0])).toEqual(['k1', 'k2']);
    });

    it('rejects publish and subscribe with E_CLOSED after close, and close is idempotent', async () => {
      const [a] = (await open(1)) as [InvalidationBus];
      const r = recorder();
      a.subscribe(r.handler);
      await a.close();
      await a.close();
      const error = await a.publish(msg('node-a', { keys: ['k'] })).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isDcError(error, 'E_CLOSED')).toBe(true);
      let thrown: unknown;
      try {
        a.subscribe(r.handler);
      } catch (e) {
        thrown = e;
      }
      expect(isDcError(thrown, 'E_CLOSED')).toBe(true);
      expect(r.received).toEqual([]);
    });

    it('calls onGap after the connection was interrupted, and delivers again afterwards', async (context) => {
      const [a, b] = (await open(2)) as [InvalidationBus, InvalidationBus];
      if (!channel.interrupt) {
        context.skip();
        return;
      }
      const r = recorder();
      let gaps = 0;
      b.subscribe(r.handler, {
        onGap: () => {
          gaps++;
        },
      });
      await channel.interrupt(b);
      await waitFor(() => gaps >= 1, 'onGap');
      await waitFor(() => {
        void a.publish(msg('node-a', { keys: ['after-gap'] })).catch(() => undefined);
        return r.received.some((m) => m.keys?.[0] === 'after-gap');
      }, 'a delivery after the gap');
      expect(gaps).toBeGreaterThanOrEqual(1);
    });
  });
}
