import { composeLoader, createManualClock, isDcError, type LoadContext } from '@dc/core';
import { describe, expect, it } from 'vitest';
import { createSingleFlight, singleFlight } from '../src/index';
import { countUnhandledRejections, delay } from './helpers';

describe('createSingleFlight', () => {
  it.each([10, 100, 1_000, 10_000])(
    'runs a 300 ms loader once when %i callers miss one cold key',
    async (n) => {
      const clock = createManualClock();
      const group = createSingleFlight<string>();
      let calls = 0;
      const loader = async (key: string) => {
        calls++;
        await delay(clock, 300);
        return `value:${key}`;
      };
      const all = Promise.all(Array.from({ length: n }, () => group.run('k', loader)));
      expect(group.inFlightCount()).toBe(1);
      await clock.advanceAsync(299);
      expect(group.isInFlight('k')).toBe(true);
      await clock.advanceAsync(1);
      const values = await all;
      expect(calls).toBe(1);
      expect(new Set(values)).toEqual(new Set(['value:k']));
      expect(values).toHaveLength(n);
      expect(group.inFlightCount()).toBe(0);
      expect(group.stats()).toEqual({ loads: 1, coalesced: n - 1 });
    },
  );

  it('gives every waiter the same error, leaves no unhandled rejection, and retries next time when the loader throws', async () => {
    const clock = createManualClock();
    const group = createSingleFlight<number>();
    const boom = new Error('db down');
    let calls = 0;
    const failing = async () => {
      calls++;
      await delay(clock, 300);
      throw boom;
    };
    const unhandled = await countUnhandledRejections(async () => {
      const settled = Promise.allSettled(Array.from({ length: 1_000 }, () => group.run('k', failing)));
      await clock.advanceAsync(300);
      const results = await settled;
      expect(results.every((r) => r.status === 'rejected' && r.reason === boom)).toBe(true);
    });
    expect(unhandled).toBe(0);
    expect(calls).toBe(1);
    expect(group.inFlightCount()).toBe(0);
    const next = group.run('k', async () => {
      calls++;
      return 7;
    });
    await expect(next).resolves.toBe(7);
    expect(calls).toBe(2);
  });

  it('keeps separate groups independent (no module-level state)', async () => {
    const a = createSingleFlight<number>();
    const b = createSingleFlight<number>();
    let calls = 0;
    const loader = async () => ++calls;
    await Promise.all([a.run('k', loader), b.run('k', loader)]);
    expect(calls).toBe(2);
  });

  it('coalesces per key, not across keys', async () => {
    const group = createSingleFlight<string>();
    const seen: string[] = [];
    const loader = async (key: string) => {
      seen.push(key);
      return key;
    };
    await expect(
      Promise.all([group.run('a', loader), group.run('b', loader), group.run('a', loader)]),
    ).resolves.toEqual(['a', 'b', 'a']);
    expect(seen).toEqual(['a', 'b']);
  });

  it('treats a synchronously throwing loader like a rejected one', async () => {
    const group = createSingleFlight<number>();
    const loader = (() => {
      throw new Error('sync');
    }) as unknown as () => Promise<number>;
    await expect(group.run('k', loader)).rejects.toThrow('sync');
    expect(group.inFlightCount()).toBe(0);
  });

  it('lets an aborted waiter leave while the load continues for the others', async () => {
    const clock = createManualClock();
    const group = createSingleFlight<string>();
    let loaderSignal: AbortSignal | undefined;
    const loader = async (_key: string, context: LoadContext) => {
      loaderSignal = context.signal;
      await delay(clock, 100);
      return 'v';
    };
    const leaver = new AbortController();
    const stayer = new AbortController();
    const left = group.run('k', loader, { signal: leaver.signal });
    const stayed = group.run('k', loader, { signal: stayer.signal });
    leaver.abort(new Error('gone'));
    await expect(left).rejects.toThrow('gone');
    expect(loaderSignal?.aborted).toBe(false);
    await clock.advanceAsync(100);
    await expect(stayed).resolves.toBe('v');
  });

  it('aborts the loader signal when every waiter has left, without an unhandled rejection', async () => {
    const clock = createManualClock();
    const group = createSingleFlight<string>();
    let loaderSignal: AbortSignal | undefined;
    const loader = async (_key: string, context: LoadContext) => {
      loaderSignal = context.signal;
      await delay(clock, 100);
      if (context.signal?.aborted) throw context.signal.reason;
      return 'v';
    };
    const unhandled = await countUnhandledRejections(async () => {
      const controllers = [new AbortController(), new AbortController()];
      const calls = controllers.map((c) =>
        group.run('k', loader, { signal: c.signal }).catch((e: unknown) => e),
      );
      for (const c of controllers) c.abort(new Error('bye'));
      await Promise.all(calls);
      expect(loaderSignal?.aborted).toBe(true);
      await clock.advanceAsync(100);
    });
    expect(unhandled).toBe(0);
    expect(group.inFlightCount()).toBe(0);
  });

  it('never aborts the loader while a caller without a signal waits', async () => {
    const clock = createManualClock();
    const group = createSingleFlight<string>();
    let loaderSignal: AbortSignal | undefined;
    const loader = async (_key: string, context: LoadContext) => {
      loaderSignal = context.signal;
      await delay(clock, 10);
      return 'v';
    };
    const c = new AbortController();
    const withSignal = group.run('k', loader, { signal: c.signal }).catch(() => 'left');
    const plain = group.run('k', loader);
    c.abort();
    await expect(withSignal).resolves.toBe('left');
    expect(loaderSignal?.aborted).toBe(false);
    await clock.advanceAsync(10);
    await expect(plain).resolves.toBe('v');
  });

  it('rejects without loading when the signal is already aborted', async () => {
    const group = createSingleFlight<number>();
    let calls = 0;
    await expect(
      group.run('k', async () => ++calls, { signal: AbortSignal.abort(new Error('pre')) }),
    ).rejects.toThrow('pre');
    expect(calls).toBe(0);
  });

  it('rejects a bad key with E_INVALID_KEY and a non-function loader with E_INVALID_OPTION', async () => {
    const group = createSingleFlight<number>();
    const keyError = await group.run('', async () => 1).catch((e: unknown) => e);
    expect(isDcError(keyError, 'E_INVALID_KEY')).toBe(true);
    const loaderError = await group.run('k', 42 as never).catch((e: unknown) => e);
    expect(isDcError(loaderError, 'E_INVALID_OPTION')).toBe(true);
  });
});

describe('singleFlight', () => {
  it('coalesces concurrent loads through composeLoader and exposes its in-flight count', async () => {
    const clock = createManualClock();
    const middleware = singleFlight<string>();
    let calls = 0;
    const load = composeLoader(async (key: string) => {
      calls++;
      await delay(clock, 300);
      return key.toUpperCase();
    }, middleware);
    const all = Promise.all(Array.from({ length: 100 }, () => load('k', {})));
    expect(middleware.group.inFlightCount()).toBe(1);
    await clock.advanceAsync(300);
    expect(new Set(await all)).toEqual(new Set(['K']));
    expect(calls).toBe(1);
    expect(middleware.group.inFlightCount()).toBe(0);
  });

  it('creates a fresh group per call', () => {
    expect(singleFlight().group).not.toBe(singleFlight().group);
  });
});
