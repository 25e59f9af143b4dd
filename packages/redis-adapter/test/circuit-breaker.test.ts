import { createManualClock, isDcError } from '@dc/core';
import { describe, expect, it } from 'vitest';
import { type CircuitState, createBreakerRegistry, createCircuitBreaker } from '../src/index';

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

describe('createBreakerRegistry', () => {
  it('keeps one breaker per node: failures on one node leave the others closed', () => {
    const clock = createManualClock(0);
    const changes: Array<[string, CircuitState]> = [];
    const registry = createBreakerRegistry({
      failureThreshold: 2,
      openMs: 100,
      clock,
      onStateChange: (node, state) => changes.push([node, state]),
    });
    const a = registry.get('10.0.0.1:6379');
    const b = registry.get('10.0.0.2:6379');
    expect(registry.get('10.0.0.1:6379')).toBe(a);
    expect(a.name).toBe('10.0.0.1:6379');
    a.onFailure();
    b.onFailure();
    a.onFailure();
    expect(a.state).toBe('open');
    expect(b.state).toBe('closed');
    expect(a.tryAcquire()).toBe(false);
    expect(b.tryAcquire()).toBe(true);
    expect(registry.state).toBe('open');
    expect(registry.states()).toEqual({ '10.0.0.1:6379': 'open', '10.0.0.2:6379': 'closed' });
    clock.advance(100);
    expect(registry.state).toBe('half-open');
    expect(a.tryAcquire()).toBe(true);
    a.onSuccess();
    expect(registry.state).toBe('closed');
    expect(changes).toEqual([
      ['10.0.0.1:6379', 'open'],
      ['10.0.0.1:6379', 'half-open'],
      ['10.0.0.1:6379', 'closed'],
    ]);
  });

  it('probes one node, or every open node, at once', () => {
    const clock = createManualClock(0);
    const registry = createBreakerRegistry({ failureThreshold: 1, openMs: 10_000, clock });
    const a = registry.get('a');
    const b = registry.get('b');
    a.onFailure();
    b.onFailure();
    registry.probeNow('a');
    expect([a.state, b.state]).toEqual(['half-open', 'open']);
    registry.probeNow('unknown');
    expect(b.state).toBe('open');
    registry.probeNow();
    expect(b.state).toBe('half-open');
    a.onFailure();
    registry.dispose();
    expect(clock.pendingTimers()).toBe(0);
  });

  it('drops closed breakers past maxNodes but keeps the ones that are not closed', () => {
    const clock = createManualClock(0);
    const registry = createBreakerRegistry({ failureThreshold: 1, openMs: 100, clock, maxNodes: 3 });
    const dead = registry.get('dead');
    dead.onFailure();
    registry.get('x');
    registry.get('y');
    registry.get('z');
    expect(Object.keys(registry.states()).length).toBeLessThanOrEqual(3);
    expect(registry.get('dead')).toBe(dead);
    expect(registry.states()).toMatchObject({ dead: 'open', z: 'closed' });
  });

  it('validates the shared options at once', () => {
    expect(() => createBreakerRegistry({ failureThreshold: 0 })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION' }),
    );
    expect(() => createBreakerRegistry({ maxNodes: 0 })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION' }),
    );
  });
});
