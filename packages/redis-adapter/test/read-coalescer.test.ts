import { describe, expect, it } from 'vitest';
import { createReadCoalescer } from '../src/internal/read-coalescer';

describe('createReadCoalescer', () => {
  it('batches the reads of one tick into one multi-key read and hands each caller its value', async () => {
    const batches: string[][] = [];
    const get = createReadCoalescer(async (keys) => {
      batches.push(keys);
      return keys.map((k) => (k === 'none' ? null : `v:${k}`));
    });
    const first = await Promise.all([get('a'), get('none'), get('a'), get('b')]);
    const second = await get('c');
    expect(first).toEqual(['v:a', null, 'v:a', 'v:b']);
    expect(second).toBe('v:c');
    expect(batches).toEqual([['a', 'none', 'a', 'b'], ['c']]);
  });

  it('rejects every read of a failed batch with its error, and later batches still run', async () => {
    let fail = true;
    const get = createReadCoalescer((keys) => {
      if (fail) throw new Error('connection lost');
      return Promise.resolve(keys.map(() => 'ok'));
    });
    const outcomes = await Promise.allSettled([get('a'), get('b')]);
    expect(outcomes.map((o) => (o.status === 'rejected' ? (o.reason as Error).message : o.value))).toEqual([
      'connection lost',
      'connection lost',
    ]);
    fail = false;
    await expect(get('c')).resolves.toBe('ok');
  });

  it('treats a short reply as misses rather than shifting values to other callers', async () => {
    const get = createReadCoalescer(async () => ['only-first']);
    await expect(Promise.all([get('a'), get('b')])).resolves.toEqual(['only-first', null]);
  });
});
