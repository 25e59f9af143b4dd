import type { CacheEntry, CacheStore, Clock, SyncCacheStore } from '@dc/core';
import { assertTtlMs, defineStore, InvalidOptionError, isSyncCacheStore } from '@dc/core';
import type { HotKeyDetector } from './hot-key-detector';
import { capEntry } from './internal/cap-entry';
import { SCOPE } from './internal/scope';
import { assertClock } from './internal/validate';
import { createWriteFence } from './internal/write-fence';

/** Options for {@link withHotKeyPromotion}. */
export interface HotKeyPromotionOptions<V = unknown> {
  /** Decides which keys are hot. */
  detector: HotKeyDetector;
  /**
   * The in-process tier hot keys are served from: any `CacheStore` (e.g. `@dc/l1`'s store).
   * When it also implements `SyncCacheStore`, hits skip one `await`. It stays open on `close()`.
   */
  l1: CacheStore<V> | (CacheStore<V> & SyncCacheStore<V>);
  /** Longest time a promoted copy is served from `l1` (ms); bounds its staleness. @default 2_000 */
  hotL1TtlMs?: number;
  /** Whether every `get` is recorded in `detector` (turn off when another layer records). @default true */
  record?: boolean;
  /** Whether a key's promoted copy is deleted from `l1` when the detector cools it. @default true */
  evictOnCool?: boolean;
  /** Time source for the L1 TTL. @default detector.options.clock */
  clock?: Clock;
}

/** Defaults of {@link HotKeyPromotionOptions}. */
export const DEFAULT_HOT_KEY_PROMOTION_OPTIONS = Object.freeze({
  hotL1TtlMs: 2_000,
  record: true,
  evictOnCool: true,
});

/** A snapshot of a promoted store's counters. */
export interface HotKeyPromotionMetrics {
  /** Copies of hot keys written into `l1`. */
  readonly promotions: number;
  /** Reads of hot keys answered by `l1`. */
  readonly l1Hits: number;
  /** Reads of hot keys that went to the wrapped store. */
  readonly l1Misses: number;
  /** Keys with a promoted copy that may still be in `l1`. */
  readonly promotedKeys: number;
  /** Errors from `l1` on the cool-down path (reads and writes surface theirs to the caller). */
  readonly l1Errors: number;
}

/** The store returned by {@link withHotKeyPromotion}. */
export interface HotKeyPromotedStore<V = unknown> extends CacheStore<V> {
  /** Counters for export. */
  metrics(): HotKeyPromotionMetrics;
}

/**
 * A `StoreDecorator` that serves keys the detector marks hot from an in-process tier with a short
 * TTL (`hotL1TtlMs`), so a hot key costs the shared tier at most one read per `hotL1TtlMs` per
 * process. Writes and deletes through the decorator update or drop the promoted copy; a fill
 * racing a write is discarded. Other processes' writes are visible after at most `hotL1TtlMs`.
 * @throws InvalidOptionError for a missing detector or l1, or a bad `hotL1TtlMs`.
 */
export function withHotKeyPromotion<V = unknown>(
  options: HotKeyPromotionOptions<V>,
): (store: CacheStore<V>) => HotKeyPromotedStore<V> {
  const { detector, l1 } = options;
  if (typeof detector?.isHot !== 'function' || typeof detector.record !== 'function') {
    throw new InvalidOptionError(
      `[dc:${SCOPE}] \`detector\` must be a HotKeyDetector (createHotKeyDetector())`,
    );
  }
  if (typeof l1?.get !== 'function' || typeof l1.set !== 'function' || typeof l1.delete !== 'function') {
    throw new InvalidOptionError(`[dc:${SCOPE}] \`l1\` must be a CacheStore`);
  }
  const hotL1TtlMs = options.hotL1TtlMs ?? DEFAULT_HOT_KEY_PROMOTION_OPTIONS.hotL1TtlMs;
  assertTtlMs(hotL1TtlMs, 'hotL1TtlMs', SCOPE);
  const record = options.record ?? DEFAULT_HOT_KEY_PROMOTION_OPTIONS.record;
  const evictOnCool = options.evictOnCool ?? DEFAULT_HOT_KEY_PROMOTION_OPTIONS.evictOnCool;
  const clock = options.clock ?? detector.options.clock;
  assertClock(clock);

  return (base) => {
    const sync = isSyncCacheStore(l1) ? l1 : undefined;
    const fence = createWriteFence();
    const promoted = new Set<string>();
    let promotions = 0;
    let l1Hits = 0;
    let l1Misses = 0;
    let l1Errors = 0;

    const dropCopy = (key: string): Promise<unknown> | undefined => {
      if (!promoted.delete(key)) return;
      if (sync) {
        sync.deleteSync(key);
        return;
      }
      return l1.delete(key);
    };

    const unsubscribe = evictOnCool
      ? detector.on('hotkey:cool', ({ key }) => {
          try {
            const pending = dropCopy(key);
            if (pending) pending.catch(() => l1Errors++);
          } catch {
            l1Errors++;
          }
        })
      : () => undefined;

    const readCopy = async (key: string): Promise<CacheEntry<V> | undefined> => {
      const entry = sync ? sync.getSync(key) : await l1.get(key);
      return entry !== undefined && clock.now() < entry.expiresAt ? entry : undefined;
    };

    const writeCopy = async (key: string, entry: CacheEntry<V>): Promise<void> => {
      const copy = capEntry(entry, clock.now(), hotL1TtlMs);
      if (copy === undefined) return;
      promoted.add(key);
      promotions++;
      if (sync) sync.setSync(key, copy);
      else await l1.set(key, copy);
    };

    const fill = async (key: string, read: Promise<CacheEntry<V> | undefined>, ticket: number) => {
      const entry = await read;
      if (entry !== undefined && fence.isCurrent(key, ticket) && detector.isHot(key)) {
        await writeCopy(key, entry);
      }
      return entry;
    };

    const get = async (key: string): Promise<CacheEntry<V> | undefined> => {
      if (record) detector.record(key);
      if (!detector.isHot(key)) return base.get(key);
      const copy = await readCopy(key);
      if (copy !== undefined) {
        l1Hits++;
        return copy;
      }
      l1Misses++;
      const ticket = fence.begin(key);
      try {
        return await fill(key, base.get(key), ticket);
      } finally {
        fence.end(key);
      }
    };

    const beforeWrite = async (key: string): Promise<void> => {
      fence.invalidate(key);
      await dropCopy(key);
    };

    const afterWrite = async (key: string, entry: CacheEntry<V>): Promise<void> => {
      if (detector.isHot(key)) await writeCopy(key, entry);
    };

    const store = defineStore<V>({
      name: `hot-l1(${base.name})`,
      get,
      async set(key, entry) {
        await beforeWrite(key);
        await base.set(key, entry);
        await afterWrite(key, entry);
      },
      async delete(key) {
        await beforeWrite(key);
        return base.delete(key);
      },
      async clear() {
        for (const key of [...promoted]) await beforeWrite(key);
        await base.clear();
      },
      async close() {
        unsubscribe();
        await base.close();
      },
      async getMany(keys) {
        const out: Array<CacheEntry<V> | undefined> = new Array(keys.length);
        const missIdx: number[] = [];
        for (let i = 0; i < keys.length; i++) {
          const key = keys[i] as string;
          if (record) detector.record(key);
          if (detector.isHot(key)) {
            const copy = await readCopy(key);
            if (copy !== undefined) {
              l1Hits++;
              out[i] = copy;
              continue;
            }
            l1Misses++;
          }
          missIdx.push(i);
        }
        if (missIdx.length === 0) return out;
        const missKeys = missIdx.map((i) => keys[i] as string);
        const tickets = missKeys.map((key) => fence.begin(key));
        try {
          const entries = await base.getMany(missKeys);
          for (let j = 0; j < missIdx.length; j++) {
            const key = missKeys[j] as string;
            const entry = entries[j];
            out[missIdx[j] as number] = entry;
            if (entry !== undefined && fence.isCurrent(key, tickets[j] as number) && detector.isHot(key)) {
              await writeCopy(key, entry);
            }
          }
        } finally {
          for (const key of missKeys) fence.end(key);
        }
        return out;
      },
      async setMany(entries) {
        for (const [key] of entries) await beforeWrite(key);
        await base.setMany(entries);
        for (const [key, entry] of entries) await afterWrite(key, entry);
      },
      async deleteMany(keys) {
        for (const key of keys) await beforeWrite(key);
        return base.deleteMany(keys);
      },
    });

    return Object.assign(store, {
      metrics: (): HotKeyPromotionMetrics => ({
        promotions,
        l1Hits,
        l1Misses,
        promotedKeys: promoted.size,
        l1Errors,
      }),
    });
  };
}
