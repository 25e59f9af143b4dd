import type { DataSource } from '@dc/core';
import { createManualClock, isDcError } from '@dc/core';
import { createTestStore } from '@dc/testkit';
import { describe, expect, it } from 'vitest';
import type { StrategyEvent } from '../src/index';
import { createRefreshAhead } from '../src/index';

function versionedSource() {
  let version = 0;
  const calls = { load: 0 };
  let release: (() => void) | undefined;
  let failing = false;
  const source: DataSource<string> = {
    async load(key) {
      calls.load += 1;
      version += 1;
      const current = version;
      if (release === undefined) {
        await new Promise<void>((resolve) => {
          release = resolve;
        });
      }
      if (failing) throw new Error('refresh failed');
      return `${key}@${current}`;
    },
    save: async () => {},
    delete: async () => {},
  };
  return {
    source,
    calls,
    open() {
      release?.();
      release = () => {};
    },
    close() {
      release = undefined;
    },
    setFailing(value: boolean) {
      failing = value;
    },
  };
}

describe('createRefreshAhead', () => {
  it('returns the cached value and refreshes in the background when read after the factor of its TTL', async () => {
    const clock = createManualClock(0);
    const store = createTestStore<string>({ clock: clock });
    const src = versionedSource();
    src.open();
    const cache = createRefreshAhead({
      store,
      dataSource: src.source,
      ttlMs: 1_000,
      refreshAheadFactor: 0.8,
      clock,
    });
    expect(await cache.get('k')).toBe('k@1');
    clock.advance(799);
    expect(await cache.get('k')).toBe('k@1');
    expect(src.calls.load).toBe(1);
    clock.advance(1);
    expect(await cache.get('k')).toBe('k@1');
    await cache.close();
    expect(src.calls.load).toBe(2);
    expect(store.entries.get('k')).toMatchObject({ value: 'k@2', staleAt: 1_800 });
  });

  it('runs one refresh per key at a time however many reads arrive while it is running', async () => {
    const clock = createManualClock(0);
    const src = versionedSource();
    src.open();
    const cache = createRefreshAhead({
      store: createTestStore<string>({ clock: clock }),
      dataSource: src.source,
      ttlMs: 1_000,
      clock,
    });
    await cache.get('k');
    src.close();
    clock.advance(900);
    const reads = await Promise.all(Array.from({ length: 100 }, () => cache.get('k')));
    expect(new Set(reads)).toEqual(new Set(['k@1']));
    expect(src.calls.load).toBe(2);
    expect(cache.inFlight()).toBe(1);
    src.open();
    await cache.close();
    expect(cache.inFlight()).toBe(0);
  });

  it('keeps the old entry and reports refresh:error when the refresh fails', async () => {
    const clock = createManualClock(0);
    const store = createTestStore<string>({ clock: clock });
    const src = versionedSource();
    src.open();
    const events: StrategyEvent[] = [];
    const cache = createRefreshAhead({
      store,
      dataSource: src.source,
      ttlMs: 1_000,
      clock,
      onEvent: (e) => events.push(e),
    });
    await cache.get('k');
    src.setFailing(true);
    clock.advance(900);
    expect(await cache.get('k')).toBe('k@1');
    await cache.close();
    expect(events.map((e) => e.type)).toEqual(['refresh:error']);
    expect(store.entries.get('k')?.value).toBe('k@1');
  });

  it('throws E_INVALID_OPTION when refreshAheadFactor is outside (0, 1)', () => {
    const clock = createManualClock(0);
    for (const refreshAheadFactor of [0, 1, -0.5, Number.NaN]) {
      let error: unknown;
      try {
        createRefreshAhead({
          store: createTestStore<string>({ clock: clock }),
          dataSource: versionedSource().source,
          ttlMs: 1_000,
          refreshAheadFactor,
        });
      } catch (e) {
        error = e;
      }
      expect(isDcError(error, 'E_INVALID_OPTION')).toBe(true);
    }
  });
});
