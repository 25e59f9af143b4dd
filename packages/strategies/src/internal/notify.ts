import type { StrategyEvent, StrategyEventListener } from '../events';

/** Calls the user's listener; a throwing listener must never break a write or a flush. */
export function notify(listener: StrategyEventListener | undefined, event: StrategyEvent): void {
  if (listener === undefined) return;
  try {
    listener(event);
  } catch {
    // Listener bugs are the caller's; swallowing keeps the write path and the flusher alive.
  }
}
