import { createManualClock, isDcError } from '@dc/core';
import { seededRandom, zipfStream } from '@dc/testkit';
import { describe, expect, it } from 'vitest';
import { createHotKeyDetector, hotKeyDetectorStateBound } from '../src/index';

const ZIPF_SEED = 20261127;

describe('createHotKeyDetector', () => {
  it('finds all 10 planted hot keys in its top-10 when fed Zipf(1.1) over 1M keys', () => {
    const n = 1_000_000;
    const events = 1_000_000;
    const random = seededRandom(ZIPF_SEED);
    // The planted keys are Zipf's ten hottest ranks under random-looking names, hidden among
    // 1M keys whose names carry no hint of their rank.
    const perm = new Uint32Array(n);
    for (let i = 0; i < n; i++) perm[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      const t = perm[i] as number;
      perm[i] = perm[j] as number;
      perm[j] = t;
    }
    const name = (rank: number) => `user:${perm[rank]}`;
    const planted = Array.from({ length: 10 }, (_, r) => name(r));
    const ranks = zipfStream(n, 1.1, events, random);

    const clock = createManualClock(0);
    const topK = 10;
    const detector = createHotKeyDetector({ windowMs: 60_000, topK, threshold: 300, clock });
    const exact = new Map<string, number>();
    // 1M events over 10 s of virtual time: 100 events per virtual millisecond.
    for (let i = 0; i < events; i++) {
      const key = name(ranks[i] as number);
      detector.record(key);
      exact.set(key, (exact.get(key) ?? 0) + 1);
      if (i % 100 === 99) clock.advance(1);
    }
    const top = detector.top(topK).map((row) => row.key);
    expect(new Set(top)).toEqual(new Set(planted));

    const report: string[] = [];
    for (const k of [10, 20, 50]) {
      const truth = new Set(
        [...exact.entries()]
          .sort((a, b) => b[1] - a[1])
          .slice(0, k)
          .map(([key]) => key),
      );
      const wide = createHotKeyDetector({ windowMs: 60_000, topK: k, candidateCapacity: 2 * k, clock });
      for (let i = 0; i < events; i++) wide.record(name(ranks[i] as number));
      const found = wide.top(k).map((row) => row.key);
      const hits = found.filter((key) => truth.has(key)).length;
      report.push(`top-${k}: precision ${(hits / found.length).toFixed(3)} recall ${(hits / k).toFixed(3)}`);
      if (k === 10) expect(hits).toBe(10);
      wide.close();
    }
    console.log(`[hotkeys] Zipf(1.1) 1M keys, 1M events, seed ${ZIPF_SEED}: ${report.join('; ')}`);

    // Ticks ran (every windowMs / 8 = 7.5 s), so hotness has been decided: exactly the planted keys.
    expect(new Set(detector.hotKeys())).toEqual(new Set(planted));
    expect(detector.stateBytes()).toBeLessThanOrEqual(
      hotKeyDetectorStateBound({ windowMs: 60_000, topK, threshold: 300 }, 32),
    );
    expect(detector.metrics().trackedKeys).toBeLessThanOrEqual(detector.options.candidateCapacity);
    detector.close();
  });

  it('keeps state under the stated bound when every recorded key is distinct', () => {
    const clock = createManualClock(0);
    const options = { topK: 8, width: 1024, depth: 3 };
    const detector = createHotKeyDetector({ ...options, clock });
    const bound = hotKeyDetectorStateBound(options, 24);
    for (let i = 0; i < 300_000; i++) {
      detector.record(`distinct-key-${i}`);
      if (i % 50_000 === 0) expect(detector.stateBytes()).toBeLessThanOrEqual(bound);
    }
    expect(detector.metrics().trackedKeys).toBe(detector.options.candidateCapacity);
    expect(detector.stateBytes()).toBeLessThanOrEqual(bound);
    // Sketch bytes are exactly depth * width * 8.
    expect(bound).toBe(3 * 1024 * 8 + 24 * (17 + 48 + 96));
    detector.close();
  });

  it('emits hotkey:hot when a key crosses the threshold and hotkey:cool after it stops', () => {
    const clock = createManualClock(1_000);
    const detector = createHotKeyDetector({ windowMs: 8_000, topK: 4, threshold: 50, clock });
    const events: string[] = [];
    detector.on('hotkey:hot', (e) => events.push(`hot:${e.key}`));
    detector.on('hotkey:cool', (e) => events.push(`cool:${e.key}`));
    // 200 requests/s for 4 s.
    for (let ms = 0; ms < 4_000; ms += 5) {
      detector.record('celebrity');
      clock.advance(5);
    }
    expect(detector.isHot('celebrity')).toBe(true);
    expect(events).toEqual(['hot:celebrity']);
    const rate = detector.top(1)[0]?.ratePerSec ?? 0;
    expect(rate).toBeGreaterThan(150);
    expect(rate).toBeLessThan(250);
    // Silence: the decaying count falls below coolThreshold (25/s) within a few windows.
    clock.advance(40_000);
    expect(detector.isHot('celebrity')).toBe(false);
    expect(events).toEqual(['hot:celebrity', 'cool:celebrity']);
    detector.close();
    expect(clock.pendingTimers()).toBe(0);
  });

  it('estimates a constant rate within 10% after warm-up when traffic is steady', () => {
    const clock = createManualClock(0);
    const detector = createHotKeyDetector({ windowMs: 1_000, threshold: 10, clock });
    for (let ms = 0; ms < 5_000; ms++) {
      detector.record('a'); // 1000/s
      if (ms % 4 === 0) detector.record('b'); // 250/s
      clock.advance(1);
    }
    expect(detector.estimateRate('a')).toBeGreaterThan(900);
    expect(detector.estimateRate('a')).toBeLessThan(1_100);
    expect(detector.estimateRate('b')).toBeGreaterThan(225);
    expect(detector.estimateRate('b')).toBeLessThan(275);
    expect(detector.estimateRate('never-seen')).toBe(0);
    detector.close();
  });

  it('never marks more than topK keys hot when many keys exceed the threshold', () => {
    const clock = createManualClock(0);
    const detector = createHotKeyDetector({ windowMs: 1_000, topK: 3, threshold: 1, clock });
    for (let ms = 0; ms < 3_000; ms++) {
      for (let k = 0; k < 10; k++) if (ms % (k + 1) === 0) detector.record(`k${k}`);
      clock.advance(1);
    }
    expect(detector.hotKeys().length).toBe(3);
    expect(new Set(detector.hotKeys())).toEqual(new Set(['k0', 'k1', 'k2']));
    detector.close();
  });

  it('scales counts by 1/sampleRate when sampling', () => {
    const clock = createManualClock(0);
    const detector = createHotKeyDetector({
      windowMs: 1_000,
      sampleRate: 1 / 16,
      threshold: 100,
      clock,
      random: seededRandom(7),
    });
    for (let ms = 0; ms < 4_000; ms++) {
      for (let i = 0; i < 4; i++) detector.record('hot'); // 4000/s
      detector.record(`cold-${ms}`);
      clock.advance(1);
    }
    const rate = detector.estimateRate('hot');
    expect(rate).toBeGreaterThan(3_400);
    expect(rate).toBeLessThan(4_600);
    expect(detector.hotKeys()).toEqual(['hot']);
    expect(detector.metrics().records).toBe(20_000);
    detector.close();
  });

  it('reports listener errors to onListenerError and keeps recording', () => {
    const clock = createManualClock(0);
    const seen: unknown[] = [];
    const detector = createHotKeyDetector({ threshold: 0, clock, onListenerError: (e) => seen.push(e) });
    detector.on('hotkey:hot', () => {
      throw new Error('listener bug');
    });
    expect(() => detector.record('x')).not.toThrow();
    expect(seen).toHaveLength(1);
    expect(detector.metrics().listenerErrors).toBe(1);
    detector.close();
  });

  it('stops emitting when unsubscribed', () => {
    const clock = createManualClock(0);
    const detector = createHotKeyDetector({ threshold: 0, clock });
    const seen: string[] = [];
    const off = detector.on('hotkey:hot', (e) => seen.push(e.key));
    detector.record('a');
    off();
    detector.record('b');
    expect(seen).toEqual(['a']);
    detector.close();
  });

  it('throws E_INVALID_OPTION when topK < 1, rates are non-finite or sizes are bad', () => {
    const bad = [
      { topK: 0 },
      { topK: 1.5 },
      { threshold: Number.NaN },
      { threshold: Number.POSITIVE_INFINITY },
      { threshold: -1 },
      { threshold: 10, coolThreshold: 20 },
      { coolThreshold: Number.NaN },
      { sampleRate: 0 },
      { sampleRate: Number.NaN },
      { sampleRate: 2 },
      { windowMs: 0 },
      { windowMs: Number.POSITIVE_INFINITY },
      { width: 8 },
      { depth: 0 },
      { topK: 8, candidateCapacity: 4 },
    ];
    for (const options of bad) {
      let caught: unknown;
      try {
        createHotKeyDetector({ ...options, clock: createManualClock(0) });
      } catch (error) {
        caught = error;
      }
      expect(isDcError(caught, 'E_INVALID_OPTION'), JSON.stringify(options)).toBe(true);
    }
    expect(() => createHotKeyDetector({ topK: 0 })).toThrow(/`topK` must be an integer >= 1, got 0/);
  });

  it('throws E_INVALID_KEY when record gets a non-string', () => {
    const detector = createHotKeyDetector({ clock: createManualClock(0) });
    expect(() => detector.record(42 as unknown as string)).toThrow(
      expect.objectContaining({ code: 'E_INVALID_KEY' }),
    );
    detector.close();
  });
});
