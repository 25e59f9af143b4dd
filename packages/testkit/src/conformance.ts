import { assertTtlMs, type CacheStore, type ManualClock } from '@dc/core';
import { afterEach, describe, it } from 'vitest';
import { CONFORMANCE_CASES, caseContext } from './internal/conformance-cases';

/** What a conformance test runs against: a fresh, empty store and, optionally, its fake clock. */
export interface ConformanceSubject<V = unknown> {
  /** An empty store (a fresh namespace when the backend is shared between tests). */
  store: CacheStore<V>;
  /** The store's injected clock; expiry tests advance it instead of waiting. */
  clock?: ManualClock;
  /** Called after each test instead of `store.close()`; should close the store and free what `create` made. */
  cleanup?: () => Promise<void>;
}

/** Options for {@link runCacheStoreConformance}. */
export interface ConformanceOptions {
  /**
   * The store enforces expiry against the wall clock (Redis `PXAT`), so the expiry test uses a
   * short real TTL and a bounded poll instead of a {@link ConformanceSubject.clock}. @default false
   */
  realTime?: boolean;
  /** TTL of the real-time expiry test (ms). @default 200 */
  realTimeTtlMs?: number;
  /** How long past `expiresAt` the real-time expiry test polls before failing (ms). @default 2000 */
  expiryPollMs?: number;
  /** `clear()` empties the store (turn off for stores that cannot enumerate their keys). @default true */
  supportsClear?: boolean;
  /** Values pass through a serializer, so a value mutated after `set` must come back as it was. @default false */
  serializes?: boolean;
  /** Calls after `close()` reject with `E_CLOSED` (stores built with `defineStore` do). @default true */
  rejectsAfterClose?: boolean;
}

/** Defaults for {@link runCacheStoreConformance}. */
export const DEFAULT_CONFORMANCE_OPTIONS: Readonly<Required<ConformanceOptions>> = Object.freeze({
  realTime: false,
  realTimeTtlMs: 200,
  expiryPollMs: 2_000,
  supportsClear: true,
  serializes: false,
  rejectsAfterClose: true,
});

/**
 * Registers (with vitest `describe`/`it`) the behaviour every {@link CacheStore} in @dc must
 * have: get/set/delete/clear and the batch calls, overwrite, return values, JSON round-trips,
 * `staleAt`/`deltaMs`/`tags` preserved, no entry at or after `expiresAt`, typed rejection of bad
 * input with nothing lost, prototype-named keys, and an idempotent `close()`.
 *
 * `create` runs before every test and must return an empty store; start shared servers in a
 * `beforeAll` of the calling file. After each test the suite calls the subject's `cleanup`, or
 * `store.close()` when there is none.
 * @throws InvalidOptionError (`E_INVALID_OPTION`) for a non-positive `realTimeTtlMs` or `expiryPollMs`.
 */
export function runCacheStoreConformance(
  name: string,
  create: () => Promise<ConformanceSubject>,
  options: ConformanceOptions = {},
): void {
  const resolved = Object.freeze({ ...DEFAULT_CONFORMANCE_OPTIONS, ...options });
  assertTtlMs(resolved.realTimeTtlMs, 'realTimeTtlMs', 'testkit');
  assertTtlMs(resolved.expiryPollMs, 'expiryPollMs', 'testkit');
  let current: ConformanceSubject | undefined;

  describe(`${name} (CacheStore conformance)`, () => {
    afterEach(async () => {
      const subject = current;
      current = undefined;
      if (subject === undefined) return;
      if (subject.cleanup) await subject.cleanup();
      else await subject.store.close();
    });

    const groups = new Map<string, typeof CONFORMANCE_CASES>();
    for (const testCase of CONFORMANCE_CASES) {
      if (testCase.enabled && !testCase.enabled(resolved)) continue;
      groups.set(testCase.group, [...(groups.get(testCase.group) ?? []), testCase]);
    }
    for (const [group, cases] of groups) {
      describe(group, () => {
        for (const testCase of cases) {
          it(testCase.name, async () => {
            current = await create();
            await testCase.run(caseContext(current, resolved));
          });
        }
      });
    }
  });
}
