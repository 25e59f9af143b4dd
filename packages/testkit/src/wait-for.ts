/** Options for {@link waitFor}. */
export interface WaitForOptions {
  /** Give up after this long (ms). */
  timeoutMs: number;
  /** Pause between attempts (ms). @default 25 */
  intervalMs?: number;
  /** What is being waited for, used in the timeout message. */
  what: string;
  /** Stops polling and rejects with the signal's reason once aborted. */
  signal?: AbortSignal;
}

/**
 * Polls `check` until it returns a value other than `undefined`/`false`, or throws once
 * `timeoutMs` has passed. A `check` that throws counts as "not yet"; the last error is put in
 * the timeout message so a failing wait says why.
 */
export async function waitFor<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  options: WaitForOptions,
): Promise<T> {
  const { timeoutMs, intervalMs = 25, what, signal } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    signal?.throwIfAborted();
    try {
      const result = await check();
      if (result !== undefined && result !== false) return result;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const reason =
        lastError === undefined ? '' : `; last error: ${(lastError as Error).message ?? lastError}`;
      throw new Error(`[dc:testkit] timed out after ${timeoutMs} ms waiting for ${what}${reason}`);
    }
    await sleep(intervalMs);
  }
}

/** Resolves after `ms`; only for poll intervals between condition checks. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
