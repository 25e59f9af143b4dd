/**
 * Redis's approximate LFU counter (`src/evict.c`): an 8-bit logarithmic counter plus the
 * 16-bit time of its last decrement in minutes. New keys start at {@link LFU_INIT_VAL} so they
 * are not evicted before they had a chance to be read again.
 */

/** Counter of a new key (`LFU_INIT_VAL` in Redis). */
export const LFU_INIT_VAL = 5;

/**
 * `LFULogIncr`: increments `counter` with probability `1 / ((counter - LFU_INIT_VAL) * logFactor + 1)`,
 * saturating at 255. `r` is a uniform draw in [0, 1).
 */
export function lfuLogIncr(counter: number, logFactor: number, r: number): number {
  if (counter === 255) return 255;
  const baseval = Math.max(0, counter - LFU_INIT_VAL);
  const p = 1 / (baseval * logFactor + 1);
  return r < p ? counter + 1 : counter;
}

/** Redis's clock for LFU: minutes, modulo 2^16 (`LFUGetTimeInMinutes`). */
export function lfuTimeInMinutes(nowMs: number): number {
  return Math.floor(nowMs / 60_000) & 0xffff;
}

/** `LFUTimeElapsed`: minutes since `ldt`, allowing for one wrap of the 16-bit clock. */
export function lfuTimeElapsed(ldt: number, nowMinutes: number): number {
  return nowMinutes >= ldt ? nowMinutes - ldt : 65535 - ldt + nowMinutes;
}

/**
 * `LFUDecrAndReturn`: the counter after one decrement per elapsed decay period (never below 0);
 * it does not store the result, exactly as Redis. `decayTimeMs` 0 disables decay.
 */
export function lfuDecrAndReturn(
  counter: number,
  ldt: number,
  nowMinutes: number,
  decayTimeMs: number,
): number {
  if (decayTimeMs === 0) return counter;
  const periods = Math.floor((lfuTimeElapsed(ldt, nowMinutes) * 60_000) / decayTimeMs);
  if (periods === 0) return counter;
  return periods > counter ? 0 : counter - periods;
}
