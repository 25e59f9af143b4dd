import { createManualClock, isDcError } from '@dc/core';
import { describe, expect, it } from 'vitest';
import { loadWithTimeout } from '../src/index';

describe('loadWithTimeout', () => {
  it('rejects with E_LOADER_TIMEOUT and aborts the loader signal when the hard timeout elapses', async () => {
    const clock = createManualClock();
    let signal: AbortSignal | undefined;
    const pending = loadWithTimeout(
      'k',
      (_key, context) => {
        signal = context.signal;
        return new Promise<string>(() => {});
      },
      { hardTimeoutMs: 100, clock, optionName: 'hardTimeout', scope: 'cache' },
    );
    const outcome = pending.catch((error: unknown) => error);
    await clock.advanceAsync(99);
    expect(signal?.aborted).toBe(false);
    await clock.advanceAsync(1);
    const error = await outcome;
    expect(isDcError(error, 'E_LOADER_TIMEOUT')).toBe(true);
    expect((error as Error).message).toBe('[dc:cache] loading "k" took longer than `hardTimeout` (100 ms)');
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toBe(error);
  });

  it('resolves and cancels its timer when the loader settles first', async () => {
    const clock = createManualClock();
    await expect(loadWithTimeout('k', async () => 'v', { hardTimeoutMs: 100, clock })).resolves.toBe('v');
    expect(clock.pendingTimers()).toBe(0);
  });

  it('turns a synchronous throw into a rejection, with or without a timeout', async () => {
    const clock = createManualClock();
    const boom = () => {
      throw new Error('boom');
    };
    await expect(loadWithTimeout('k', boom, { hardTimeoutMs: undefined, clock })).rejects.toThrow('boom');
    await expect(loadWithTimeout('k', boom, { hardTimeoutMs: 10, clock })).rejects.toThrow('boom');
    expect(clock.pendingTimers()).toBe(0);
  });
});
