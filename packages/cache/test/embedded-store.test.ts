import { createEntry, createManualClock, isDcError, jsonSerializer } from '@dc/core';
import { runCacheStoreConformance } from '@dc/testkit';
import { describe, expect, it } from 'vitest';
import { createEmbeddedStore, isEmbeddedStore } from '../src';

runCacheStoreConformance('createEmbeddedStore', async () => {
  const clock = createManualClock(1_000);
  return { store: createEmbeddedStore({ clock }), clock };
});

runCacheStoreConformance(
  'createEmbeddedStore with a serializer',
  async () => {
    const clock = createManualClock(1_000);
    return { store: createEmbeddedStore({ clock, serializer: jsonSerializer }), clock };
  },
  { serializes: true },
);

describe('createEmbeddedStore', () => {
  it('rejects an unencodable value before storing when it has a serializer, keeping the older entry', async () => {
    const clock = createManualClock(1_000);
    const store = createEmbeddedStore<unknown>({ clock, serializer: jsonSerializer });
    await store.set('k', createEntry('old', { now: clock.now(), ttlMs: 1_000 }));
    const error = await store.set('k', createEntry(10n, { now: clock.now(), ttlMs: 1_000 })).catch((e) => e);
    expect(isDcError(error, 'E_SERIALIZATION')).toBe(true);
    expect((await store.get('k'))?.value).toBe('old');
  });

  it('rejects bad options with E_INVALID_OPTION when maxEntries is not a positive integer', () => {
    expect(() => createEmbeddedStore({ maxEntries: 0 })).toThrow(/maxEntries/);
  });

  it('is recognised by isEmbeddedStore when made here', () => {
    expect(isEmbeddedStore(createEmbeddedStore())).toBe(true);
    expect(isEmbeddedStore({})).toBe(false);
  });
});
