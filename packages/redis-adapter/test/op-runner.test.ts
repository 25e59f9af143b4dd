import { createManualClock, isDcError } from '@dc/core';
import { describe, expect, it } from 'vitest';
import { createCircuitBreaker } from '../src/index';
import { createOpRunner } from '../src/internal/op-runner';

function setup(failOpen: boolean) {
  const clock = createManualClock(0);
  const breaker = createCircuitBreaker({ failureThreshold: 2, openMs: 1_000, clock });
  const log: string[] = [];
  const runner = createOpRunner({
    failOpen,
    softTimeoutMs: 50,
    hardTimeoutMs: 250,
    clock,
    breaker,
    scope: 'redis',
    hooks: {
      onError: (op) => log.push(`error:${op}`),
      onTimeout: (op, stage, ms) => log.push(`${stage}:${op}:${ms}`),
      onShortCircuit: (op) => log.push(`short:${op}`),
    },
  });
  return { clock, breaker, runner, log };
}

const never = <T>() => new Promise<T>(() => {});
const settled = async <T>(p: Promise<T>) => {
  let state = 'pending';
  p.then(
    () => (state = 'resolved'),
    () => (state = 'rejected'),
  );
  await new Promise((r) => setImmediate(r));
  return state;
};

describe('createOpRunner', () => {
  it('resolves a fail-open read as the fallback at the soft timeout', async () => {
    const { clock, runner, log } = setup(true);
    const read = runner.run('get', 'read', 'miss', never);
    clock.advance(49);
    expect(await settled(read)).toBe('pending');
    clock.advance(1);
    await expect(read).resolves.toBe('miss');
    expect(log).toEqual(['soft:get:50']);
  });

  it('holds a fail-open write until the hard timeout, then resolves the fallback', async () => {
    const { clock, runner, log } = setup(true);
    const write = runner.run('set', 'write', undefined, never);
    clock.advance(100);
    expect(await settled(write)).toBe('pending');
    clock.advance(150);
    await expect(write).resolves.toBeUndefined();
    expect(log).toEqual(['soft:set:50', 'hard:set:250']);
  });

  it('rejects with E_STORE_UNAVAILABLE at the hard timeout in fail-closed mode', async () => {
    const { clock, runner } = setup(false);
    const read = runner.run('get', 'read', null, never);
    clock.advance(249);
    expect(await settled(read)).toBe('pending');
    clock.advance(1);
    const error = await read.catch((e: unknown) => e);
    expect(isDcError(error, 'E_STORE_UNAVAILABLE')).toBe(true);
  });

  it('wraps a failed command in E_STORE_UNAVAILABLE with the cause when fail-closed', async () => {
    const { runner } = setup(false);
    const cause = new Error('ECONNREFUSED');
    const error = (await runner
      .run('get', 'read', null, () => Promise.reject(cause))
      .catch((e: unknown) => e)) as Error;
    expect(isDcError(error, 'E_STORE_UNAVAILABLE')).toBe(true);
    expect(error.cause).toBe(cause);
  });

  it('short-circuits without calling exec once the breaker is open', async () => {
    const { runner, breaker, log } = setup(true);
    const fail = () => Promise.reject(new Error('down'));
    await runner.run('get', 'read', null, fail);
    await runner.run('get', 'read', null, fail);
    expect(breaker.state).toBe('open');
    let calls = 0;
    const result = await runner.run('get', 'read', 'fallback', async () => {
      calls++;
      return 'value';
    });
    expect(result).toBe('fallback');
    expect(calls).toBe(0);
    expect(log.at(-1)).toBe('short:get');
  });

  it('runs one timer for many pending ops', async () => {
    const { clock, runner } = setup(true);
    const reads = Array.from({ length: 1_000 }, () => runner.run('get', 'read', 0, never));
    expect(clock.pendingTimers()).toBe(1);
    clock.advance(50);
    await expect(Promise.all(reads)).resolves.toHaveLength(1_000);
  });

  it('settles every pending op when closed', async () => {
    const { runner, clock } = setup(false);
    const read = runner.run('get', 'read', null, never);
    runner.close();
    const error = await read.catch((e: unknown) => e);
    expect(isDcError(error, 'E_CLOSED')).toBe(true);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('passes the value and arg of a read through map when the command answers', async () => {
    const { runner } = setup(true);
    const value = await runner.read(
      'get',
      'k1',
      async (key) => `payload-of-${key}`,
      (payload, key) => `${key}:${payload}`,
    );
    expect(value).toBe('k1:payload-of-k1');
  });

  it('maps the null fallback of a fail-open read at the soft timeout, on errors and when short-circuited', async () => {
    const { clock, runner } = setup(true);
    const mapped: string[] = [];
    const map = (payload: string | null, key: string) => {
      mapped.push(`${key}=${payload}`);
      return 'miss';
    };
    const slow = runner.read('get', 'slow', () => never<string>(), map);
    clock.advance(50);
    await expect(slow).resolves.toBe('miss');
    await expect(runner.read('get', 'err', async () => Promise.reject(new Error('x')), map)).resolves.toBe(
      'miss',
    );
    // Two failures opened the breaker (threshold 2): the next read is refused without a call.
    let called = false;
    const refused = runner.read(
      'get',
      'open',
      async () => {
        called = true;
        return 'v';
      },
      map,
    );
    await expect(refused).resolves.toBe('miss');
    expect(called).toBe(false);
    expect(mapped).toEqual(['slow=null', 'err=null', 'open=null']);
  });

  it('rejects a read whose map throws, and rejects a fail-closed read without calling map', async () => {
    const open = setup(true);
    const boom = open.runner.read(
      'get',
      'k',
      async () => 'v',
      () => {
        throw new Error('map failed');
      },
    );
    await expect(boom).rejects.toThrow('map failed');
    const closed = setup(false);
    let mapped = 0;
    const read = closed.runner.read(
      'get',
      'k',
      () => never<string>(),
      () => mapped++,
    );
    closed.clock.advance(250);
    const error = await read.catch((e: unknown) => e);
    expect(isDcError(error, 'E_STORE_UNAVAILABLE')).toBe(true);
    expect(mapped).toBe(0);
  });

  it('keeps the timer schedule right when answered ops leave the queue at once', async () => {
    const { clock, runner, log } = setup(true);
    // Answered in order: each op leaves the FIFO as it settles.
    for (let i = 0; i < 5; i++) await runner.run('get', 'read', null, async () => i);
    const late = runner.run('get', 'read', 'fallback', never);
    clock.advance(49);
    expect(await settled(late)).toBe('pending');
    clock.advance(1);
    await expect(late).resolves.toBe('fallback');
    expect(log).toEqual(['soft:get:50']);
  });
});
