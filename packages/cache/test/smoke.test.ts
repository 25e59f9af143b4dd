import { describe, expect, it } from 'vitest';
import { createCache } from '../src';

describe('createCache', () => {
  it('smoke', async () => {
    const cache = createCache<number>();
    let calls = 0;
    expect(await cache.getOrSet('a', async () => ++calls)).toBe(1);
    expect(await cache.getOrSet('a', async () => ++calls)).toBe(1);
    expect(await cache.get('a')).toBe(1);
    await cache.set('a', 5);
    expect(await cache.get('a')).toBe(5);
    expect(await cache.delete('a')).toBe(true);
    expect(await cache.get('a')).toBe(undefined);
    console.log(cache.stats());
    await cache.close();
  });
});
