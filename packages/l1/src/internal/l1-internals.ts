import type { Clock } from '@dc/core';

/** What an L1 tells an attached bus link about local changes. */
export interface ChangeListener {
  /** `keys` were written or deleted through this L1. */
  keysChanged(keys: readonly string[]): void;
  /** Every entry was removed through this L1 (`clear`). */
  cleared(): void;
}

/** A bus link as the L1 sees it. */
export interface Attachment {
  readonly listener: ChangeListener;
  detach(): Promise<void>;
}

/** The non-public face of an L1 store that `attachInvalidationBus` drives. */
export interface L1Internals {
  readonly clock: Clock;
  readonly scope: string;
  /** Installs the attached bus link; `undefined` removes it. `close()` detaches it. */
  setAttachment(attachment: Attachment | undefined): void;
  hasAttachment(): boolean;
  /** Evicts `keys` because another instance changed them (no notification). */
  invalidateLocal(keys: readonly string[]): void;
  /** Flushes every entry without notification. */
  clearLocal(): void;
  isClosed(): boolean;
}

const registry = new WeakMap<object, L1Internals>();

/** Links a store object to its internals. */
export function registerL1Internals(store: object, internals: L1Internals): void {
  registry.set(store, internals);
}

/** The internals of a store made by `createL1Store`, or `undefined`. */
export function l1InternalsOf(store: unknown): L1Internals | undefined {
  return typeof store === 'object' && store !== null ? registry.get(store) : undefined;
}
