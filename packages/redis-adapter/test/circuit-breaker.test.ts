import { createManualClock, isDcError } from '@dc/core';
import { describe, expect, it } from 'vitest';
import { type CircuitState, createCircuitBreaker } from '../src/index';

describe('createCircuitBreaker', () => {
  it('opens after failureThreshold consecutive failures and refuses every call while open', () => {
    const clock = createManualClock(0);
    const states: CircuitState[] = [];
    const breaker = createCircuitBreaker({
      failureThreshold: 3,
      openMs: 100,
      clock,
      onStateChange: (s) => states.push(s),
    });
    breaker.onFailure();
    breaker.onFailure();
    breaker.onSuccess();
    breaker.onFailure();
    breaker.onFailure();
    expect(breaker.state).toBe('closed');
    breaker.onFailure();
    expect(breaker.state).toBe('open');
    expect(Array.from({ length: 10 }, () => breaker.tryAcquire()).some(Boolean)).toBe(false);
    expect(states).toEqual(['open']);
  });

  it('lets exactly one probe through after openMs and closes on its success', () => {
    const clock = createManualClock(0);
    const breaker = createCircuitBreaker({ failureThreshold: 1, openMs: 100, clock });
    breaker.onFailure();
    clock.advance(99);
    expect(breaker.tryAcquire()).toBe(false);
    clock.advance(1);
    expect(breaker.state).toBe('half-open');
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.tryAcquire()).toBe(false);
    breaker.onSuccess();
    expect(breaker.state).toBe('closed');
    expect(breaker.tryAcquire()).toBe(true);
  });

  it('re-opens for another openMs when the probe fails', () => {
    const clock = createManualClock(0);
    const breaker = createCircuitBreaker({ failureThreshold: 1, openMs: 100, clock });
    breaker.onFailure();
    clock.advance(100);
    expect(breaker.tryAcquire()).toBe(true);
    breaker.onFailure();
    expect(breaker.state).toBe('open');
    clock.advance(99);
    expect(breaker.tryAcquire()).toBe(false);
    clock.advance(1);
    expect(breaker.tryAcquire()).toBe(true);
  });

  it('probes at once when probeNow is called on an open circuit', () => {
    const clock = createManualClock(0);
    const breaker = createCircuitBreaker({ failureThreshold: 1, openMs: 10_000, clock });
    breaker.onFailure();
    breaker.probeNow();
    expect(breaker.tryAcquire()).toBe(true);
    breaker.dispose();
    expect(clock.pendingTimers()).toBe(0);
  });

  it('rejects a non-integer threshold or a non-positive openMs with E_INVALID_OPTION', () => {
    expect(() => createCircuitBreaker({ failureThreshold: 0 })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION' }),
    );
    let error: unknown;
    try {
      createCircuitBreaker({ openMs: Number.NaN });
    } catch (e) {
      error = e;
    }
    expect(isDcError(error, 'E_INVALID_OPTION')).toBe(true);
  });
});
