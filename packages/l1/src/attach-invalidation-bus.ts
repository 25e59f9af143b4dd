import { randomUUID } from 'node:crypto';
import type { Clock, TimerHandle } from '@dc/core';
import { assertInteger, assertTtlMs, describeValue, InvalidOptionError } from '@dc/core';
import type { ChangeListener } from './internal/l1-internals';
import { l1InternalsOf } from './internal/l1-internals';
import type { Invalidation, InvalidationBus } from './invalidation';
import { INVALIDATION_VERSION } from './invalidation';
import type { L1Store } from './l1-store';

/** Options of {@link attachInvalidationBus}. */
export interface AttachInvalidationBusOptions {
  /** This instance's id on the bus; messages with it as `origin` are ignored. @default randomUUID() */
  instanceId?: string;
  /**
   * The namespace this L1 caches. Key messages apply only between equal namespaces (absent =
   * absent); a `clear` without a namespace flushes every L1.
   */
  namespace?: string;
  /** Time source of the retry timer. @default the L1's clock */
  clock?: Clock;
  /** First retry delay after a failed publish (ms); doubles per failure. @default 100 */
  retryDelayMs?: number;
  /** Longest retry delay (ms). @default 1000 */
  maxRetryDelayMs?: number;
  /**
   * Most distinct keys waiting for a retry. Beyond it the keys are replaced by one pending
   * `clear` for every L1 in the namespace, and this L1 is flushed: invalidations are never
   * dropped silently (FAULTS D6). @default 1000
   */
  maxPendingKeys?: number;
  /** Told about every failed publish (the link retries on its own). @default ignore */
  onError?: (error: unknown) => void;
}

/** Defaults of {@link AttachInvalidationBusOptions}. */
export const DEFAULT_ATTACH_INVALIDATION_BUS_OPTIONS = Object.freeze({
  retryDelayMs: 100 as number,
  maxRetryDelayMs: 1_000 as number,
  maxPendingKeys: 1_000 as number,
});

/** Counters of an {@link InvalidationLink}. */
export interface InvalidationLinkStats {
  /** Messages the bus accepted (first attempts and retries). */
  readonly published: number;
  /** Publish attempts that failed. */
  readonly publishFailures: number;
  /** Messages from other instances that applied to this L1. */
  readonly received: number;
  /** Own messages ignored. */
  readonly ignoredOwn: number;
  /** Times the retry queue overflowed into a full flush. */
  readonly overflows: number;
  /** Full flushes after a bus gap (`resync`). */
  readonly resyncs: number;
  /** Keys waiting for a retry now. */
  readonly pendingKeys: number;
  /** Whether a `clear` waits for a retry now. */
  readonly pendingClear: boolean;
}

/** The connection between one L1 and a bus, returned by {@link attachInvalidationBus}. */
export interface InvalidationLink {
  /** This instance's id on the bus (the `origin` of what it publishes). */
  readonly instanceId: string;
  /** The namespace this link publishes in and listens to. */
  readonly namespace: string | undefined;
  /** Flushes this L1 because messages may have been lost (called on bus gaps; callable by hand). */
  resync(): void;
  /** Retries pending publishes now; resolves when that attempt settled (never rejects). */
  flush(): Promise<void>;
  /** Counters since the link was made. */
  stats(): InvalidationLinkStats;
  /**
   * Stops publishing and receiving, with one last attempt to send what is pending. The bus stays
   * open. Idempotent.
   */
  detach(): Promise<void>;
}

function resolveAttachOptions(options: AttachInvalidationBusOptions, defaultClock: Clock) {
  if (typeof options !== 'object' || options === null)
    throw new InvalidOptionError(`[dc:l1] bus options must be an object, got ${describeValue(options)}`);
  const merged = {
    ...DEFAULT_ATTACH_INVALIDATION_BUS_OPTIONS,
    ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
  } as AttachInvalidationBusOptions & typeof DEFAULT_ATTACH_INVALIDATION_BUS_OPTIONS;
  const instanceId = merged.instanceId ?? randomUUID();
  if (typeof instanceId !== 'string' || instanceId.length === 0)
    throw new InvalidOptionError(
      `[dc:l1] \`instanceId\` must be a non-empty string, got ${describeValue(instanceId)}`,
    );
  if (merged.namespace !== undefined && typeof merged.namespace !== 'string')
    throw new InvalidOptionError(
      `[dc:l1] \`namespace\` must be a string, got ${describeValue(merged.namespace)}`,
    );
  assertTtlMs(merged.retryDelayMs, 'retryDelayMs', 'l1');
  assertTtlMs(merged.maxRetryDelayMs, 'maxRetryDelayMs', 'l1');
  if (merged.maxRetryDelayMs < merged.retryDelayMs)
    throw new InvalidOptionError(
      `[dc:l1] \`maxRetryDelayMs\` (${merged.maxRetryDelayMs}) must be >= \`retryDelayMs\` (${merged.retryDelayMs})`,
    );
  assertInteger(merged.maxPendingKeys, 'maxPendingKeys', 1, 'l1');
  if (merged.onError !== undefined && typeof merged.onError !== 'function')
    throw new InvalidOptionError(
      `[dc:l1] \`onError\` must be a function, got ${describeValue(merged.onError)}`,
    );
  const clock = merged.clock ?? defaultClock;
  return { ...merged, instanceId, clock };
}

/**
 * Connects an L1 (from `createL1Store`) to `bus`: local writes and deletes publish their keys,
 * `clear` publishes a flush, and messages from other instances evict those keys here. Own
 * messages are ignored. Failed publishes are retried with backoff from a bounded queue; on
 * overflow the L1 is flushed and a flush is broadcast once the bus works again. A gap reported
 * by the bus (`onGap`, e.g. a pub/sub reconnect) flushes the L1.
 * @throws InvalidOptionError for a store not made by `createL1Store`, a store that already has
 *   a bus, or a bad option; ClosedError when the store or the bus is closed.
 */
export function attachInvalidationBus(
  l1: L1Store<unknown>,
  bus: InvalidationBus,
  options: AttachInvalidationBusOptions = {},
): InvalidationLink {
  const internals = l1InternalsOf(l1);
  if (!internals)
    throw new InvalidOptionError(
      `[dc:l1] attachInvalidationBus needs a store made by createL1Store, got ${describeValue(l1)}`,
    );
  if (typeof bus !== 'object' || bus === null || typeof bus.publish !== 'function')
    throw new InvalidOptionError(`[dc:l1] \`bus\` must be an InvalidationBus, got ${describeValue(bus)}`);
  if (internals.hasAttachment())
    throw new InvalidOptionError(`[dc:${internals.scope}] this L1 already has an invalidation bus attached`);
  const { instanceId, namespace, clock, retryDelayMs, maxRetryDelayMs, maxPendingKeys, onError } =
    resolveAttachOptions(options, internals.clock);

  let published = 0;
  let publishFailures = 0;
  let received = 0;
  let ignoredOwn = 0;
  let overflows = 0;
  let resyncs = 0;
  let pendingKeys = new Set<string>();
  let pendingClear = false;
  let retryTimer: TimerHandle | undefined;
  let retrying: Promise<void> | undefined;
  let delayMs = retryDelayMs;
  let detached = false;
  let detaching: Promise<void> | undefined;

  const message = (keys: readonly string[] | undefined, clear: boolean): Invalidation => {
    const m: { -readonly [K in keyof Invalidation]: Invalidation[K] } = {
      version: INVALIDATION_VERSION,
      origin: instanceId,
    };
    if (clear) m.clear = true;
    else m.keys = keys;
    if (namespace !== undefined) m.namespace = namespace;
    return m;
  };

  const reportError = (error: unknown): void => {
    publishFailures++;
    try {
      onError?.(error);
    } catch {
      // A failing error callback must not break the retry loop.
    }
  };

  const hasPending = (): boolean => pendingClear || pendingKeys.size > 0;

  const enqueue = (keys: readonly string[] | undefined, clear: boolean): void => {
    if (clear) {
      pendingClear = true;
      pendingKeys = new Set();
    } else if (!pendingClear && keys) {
      for (const key of keys) pendingKeys.add(key);
      if (pendingKeys.size > maxPendingKeys) {
        overflows++;
        pendingKeys = new Set();
        pendingClear = true;
        internals.clearLocal();
      }
    }
    scheduleRetry();
  };

  const scheduleRetry = (): void => {
    if (detached || retryTimer || retrying || !hasPending()) return;
    retryTimer = clock.setTimer(() => {
      retryTimer = undefined;
      void attempt();
    }, delayMs);
  };

  const attempt = (): Promise<void> => {
    if (retrying) return retrying;
    if (!hasPending()) return Promise.resolve();
    const clear = pendingClear;
    const keys = clear ? undefined : [...pendingKeys];
    pendingClear = false;
    pendingKeys = new Set();
    const settle = (ok: boolean, error?: unknown): void => {
      retrying = undefined;
      if (ok) {
        published++;
        delayMs = retryDelayMs;
      } else {
        reportError(error);
        delayMs = Math.min(delayMs * 2, maxRetryDelayMs);
        enqueue(keys, clear);
      }
      scheduleRetry();
    };
    let publishing: Promise<void>;
    try {
      publishing = bus.publish(message(keys, clear));
    } catch (error) {
      // A bus that throws instead of rejecting is treated the same way.
      publishing = Promise.reject(error);
    }
    retrying = publishing.then(
      () => settle(true),
      (error: unknown) => settle(false, error),
    );
    return retrying;
  };

  const send = (keys: readonly string[] | undefined, clear: boolean): void => {
    // While anything waits for a retry the bus is presumed down: queue behind it.
    if (hasPending() || retrying || retryTimer) {
      enqueue(keys, clear);
      return;
    }
    let publishing: Promise<void>;
    try {
      publishing = bus.publish(message(keys, clear));
    } catch (error) {
      publishing = Promise.reject(error);
    }
    publishing.then(
      () => {
        published++;
      },
      (error: unknown) => {
        reportError(error);
        if (!detached) enqueue(keys, clear);
      },
    );
  };

  const listener: ChangeListener = {
    keysChanged: (keys) => send(keys, false),
    cleared: () => send(undefined, true),
  };

  const resync = (): void => {
    resyncs++;
    internals.clearLocal();
  };

  const unsubscribe = bus.subscribe(
    (incoming) => {
      if (detached) return;
      if (incoming.origin === instanceId) {
        ignoredOwn++;
        return;
      }
      if (incoming.version !== INVALIDATION_VERSION) return;
      if (incoming.clear === true) {
        if (incoming.namespace !== undefined && incoming.namespace !== namespace) return;
        received++;
        internals.clearLocal();
        return;
      }
      if (incoming.namespace !== namespace || !incoming.keys) return;
      received++;
      internals.invalidateLocal(incoming.keys);
    },
    { onGap: () => resync() },
  );
  const link: InvalidationLink = {
    instanceId,
    namespace,
    resync,
    flush() {
      retryTimer?.cancel();
      retryTimer = undefined;
      return attempt();
    },
    stats: () => ({
      published,
      publishFailures,
      received,
      ignoredOwn,
      overflows,
      resyncs,
      pendingKeys: pendingKeys.size,
      pendingClear,
    }),
    detach() {
      if (detaching) return detaching;
      internals.setAttachment(undefined);
      unsubscribe();
      retryTimer?.cancel();
      retryTimer = undefined;
      const last =
        hasPending() || retrying ? (retrying ?? Promise.resolve()).then(() => attempt()) : undefined;
      detached = true;
      detaching = (last ?? Promise.resolve()).then(() => {
        retryTimer?.cancel();
        retryTimer = undefined;
      });
      return detaching;
    },
  };
  internals.setAttachment({ listener, detach: () => link.detach() });
  return link;
}
