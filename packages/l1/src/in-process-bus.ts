import { ClosedError } from '@dc/core';
import type {
  Invalidation,
  InvalidationBus,
  InvalidationHandler,
  InvalidationSubscribeOptions,
} from './invalidation';
import { assertInvalidation } from './invalidation';

/** Options of {@link createInProcessBus}. */
export interface InProcessBusOptions {
  /**
   * Called with an error a handler threw; the error never reaches the publisher.
   * @default ignore
   */
  onHandlerError?: (error: unknown, message: Invalidation) => void;
}

/** An {@link InvalidationBus} for L1 stores in one process; adds {@link InProcessBus.simulateGap}. */
export interface InProcessBus extends InvalidationBus {
  /** Number of live subscriptions. */
  readonly subscriberCount: number;
  /** Calls every subscriber's `onGap`, as a network bus does after a reconnect (for tests). */
  simulateGap(): void;
}

interface Subscription {
  readonly handler: InvalidationHandler;
  readonly onGap: (() => void) | undefined;
}

/**
 * Creates an in-process bus: `publish` delivers to every handler synchronously, in
 * subscription order, before its promise resolves. Every L1 in the process shares one bus.
 */
export function createInProcessBus(options: InProcessBusOptions = {}): InProcessBus {
  const { onHandlerError } = options;
  let subscriptions: readonly Subscription[] = [];
  let closed = false;

  const closedError = () => new ClosedError('[dc:l1] the in-process invalidation bus is closed');

  return {
    name: 'in-process',
    get subscriberCount() {
      return subscriptions.length;
    },
    publish(message) {
      if (closed) return Promise.reject(closedError());
      try {
        assertInvalidation(message);
      } catch (error) {
        return Promise.reject(error);
      }
      // A snapshot: handlers that (un)subscribe during delivery take effect from the next message.
      for (const subscription of subscriptions) {
        try {
          subscription.handler(message);
        } catch (error) {
          onHandlerError?.(error, message);
        }
      }
      return Promise.resolve();
    },
    subscribe(handler, subscribeOptions: InvalidationSubscribeOptions = {}) {
      if (closed) throw closedError();
      const subscription: Subscription = { handler, onGap: subscribeOptions.onGap };
      subscriptions = [...subscriptions, subscription];
      return () => {
        subscriptions = subscriptions.filter((s) => s !== subscription);
      };
    },
    simulateGap() {
      for (const subscription of subscriptions) subscription.onGap?.();
    },
    close() {
      closed = true;
      subscriptions = [];
      return Promise.resolve();
    },
  };
}
