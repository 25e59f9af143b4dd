import type { DataSource } from '@dc/core';
import { createManualClock, isDcError } from '@dc/core';
import { describe, expect, it } from 'vitest';
import { createCache } from '../src';

const START = 1_700_000_000_000;

function mapSource(db: Map<string, string>, log: string[]): DataSource<string> {
  return {
    load: async (key) => {
      log.push(`load ${key}`);
      return db.get(key);
    },
    save: async (key, value) => {
      log.push(`save ${key}=${value}`);
      db.set(key, value);
    },
    delete: async (key) => {
      log.push(`delete ${key}`);
      db.delete(key);
    },
  };
}

describe('createCache writeMode', () => {
  it('writes the data source, then the cache, with write-through', async () => {
    const db = new Map<string, string>();
    const log: string[] = [];
    const cache = createCache<string>({ dataSource: mapSource(db, log), writeMode: 'write-through' });
    await cache.set('k', 'v1');
    expect(db.get('k')).toBe('v1');
    expect(await cache.get('k')).toBe('v1');
    expect((await cache.l2.get('k'))?.value).toBe('v1');
    expect(await cache.delete('k')).toBe(true);
    expect(db.has('k')).toBe(false);
    expect(await cache.get('k')).toBeUndefined();
    expect(log).toEqual(['save k=v1', 'delete k']);
    await cache.close();
  });

  it('acknowledges from the cache and flushes the data source in batches with write-behind', async () => {
    const clock = createManualClock(START);
    const db = new Map<string, string>();
    const log: string[] = [];
    const cache = createCache<string>({
      clock,
      dataSource: mapSource(db, log),
      writeMode: 'write-behind',
      writeBehind: { flushIntervalMs: 1_000 },
    });
    await cache.set('k', 'v1');
    await cache.set('k', 'v2');
    expect(await cache.get('k')).toBe('v2');
    expect(db.has('k')).toBe(false);
    await cache.close(); // flushes
    expect(db.get('k')).toBe('v2');
    expect(log).toEqual(['save k=v2']); // coalesced
  });

  it('rejects per-call options in a write mode with E_INVALID_OPTION', async () => {
    const cache = createCache<string>({ dataSource: mapSource(new Map(), []), writeMode: 'write-through' });
    const error = await cache.set('k', 'v', { ttl: '1s' }).catch((e) => e);
    expect(isDcError(error, 'E_INVALID_OPTION')).toBe(true);
    await cache.close();
  });

  it('only writes the cache in cache-aside mode and reads through the source', async () => {
    const db = new Map([['k', 'from db']]);
    const log: string[] = [];
    const cache = createCache<string>({ dataSource: mapSource(db, log) });
    expect(await cache.getOrSet('k')).toBe('from db');
    await cache.set('k', 'cached only');
    expect(db.get('k')).toBe('from db');
    expect(log).toEqual(['load k']);
    await cache.close();
  });
});
