import { describe, expect, it } from 'vitest';
import { KeyMutex } from '../src/internal/key-mutex';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('KeyMutex', () => {
  it('runs tasks for one key in call order when earlier tasks are slower', async () => {
    const mutex = new KeyMutex();
    const order: number[] = [];
    await Promise.all(
      [3, 2, 1, 0].map((delay, i) =>
        mutex.run('k', async () => {
          for (let j = 0; j < delay; j++) await tick();
          order.push(i);
        }),
      ),
    );
    expect(order).toEqual([0, 1, 2, 3]);
    expect(mutex.size).toBe(0);
  });

  it('keeps the chain going when a task rejects', async () => {
    const mutex = new KeyMutex();
    const failed = mutex.run('k', async () => {
      throw new Error('boom');
    });
    const next = mutex.run('k', async () => 'ok');
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe('ok');
  });

  it('starts a multi-key task only after every earlier task on any of its keys settled', async () => {
    const mutex = new KeyMutex();
    const events: string[] = [];
    let releaseB!: () => void;
    const a = mutex.run('a', async () => {
      events.push('a');
    });
    const b = mutex.run('b', () =>
      new Promise<void>((resolve) => (releaseB = resolve)).then(() => void events.push('b')),
    );
    const both = mutex.runMany(['a', 'b', 'a'], async () => {
      events.push('both');
    });
    const afterA = mutex.run('a', async () => {
      events.push('a2');
    });
    await a;
    await tick();
    expect(events).toEqual(['a']);
    releaseB();
    await Promise.all([b, both, afterA]);
    expect(events).toEqual(['a', 'b', 'both', 'a2']);
    await mutex.settled();
    expect(mutex.size).toBe(0);
    expect(mutex.isIdle('a')).toBe(true);
  });
});
