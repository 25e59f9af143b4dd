import { describe, expect, it } from 'vitest';
import { createInProcessBus } from '../src/index';
import { runInvalidationBusContract } from './bus-contract';

runInvalidationBusContract('in-process', () => ({
  channel: () => {
    const bus = createInProcessBus();
    return {
      open: () => bus,
      interrupt: async (endpoint) => {
        (endpoint as typeof bus).simulateGap();
      },
    };
  },
}));

describe('createInProcessBus', () => {
  it('reports a throwing handler to onHandlerError with the message', async () => {
    const errors: unknown[] = [];
    const bus = createInProcessBus({ onHandlerError: (error) => errors.push(error) });
    const failure = new Error('boom');
    bus.subscribe(() => {
      throw failure;
    });
    await bus.publish({ version: 1, origin: 'a', keys: ['k'] });
    expect(errors).toEqual([failure]);
  });

  it('counts live subscriptions when handlers come and go', () => {
    const bus = createInProcessBus();
    const off = bus.subscribe(() => undefined);
    bus.subscribe(() => undefined);
    expect(bus.subscriberCount).toBe(2);
    off();
    expect(bus.subscriberCount).toBe(1);
  });
});
