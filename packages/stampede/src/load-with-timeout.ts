import type { Clock, LoadContext } from '@dc/core';
import { describeValue, LoaderTimeoutError } from '@dc/core';

/** Options for {@link loadWithTimeout}. */
export interface LoadWithTimeoutOptions {
  /** Hard timeout (ms); `undefined` runs the loader without one. */
  hardTimeoutMs: number | undefined;
  /** Source of the timer. */
  clock: Clock;
  /** Option name quoted in the timeout message (`hardTimeoutMs`, or the facade's `hardTimeout`). @default 'hardTimeoutMs' */
  optionName?: string;
  /** Package named in the message prefix. @default 'stampede' */
  scope?: string;
}

/**
 * Runs `loader(key)` with an `AbortSignal` and, when `hardTimeoutMs` is set, rejects with
 * {@link LoaderTimeoutError} (`E_LOADER_TIMEOUT`) once it elapses, aborting the signal with the
 * same error so the loader can stop its I/O. A loader that throws synchronously rejects instead.
 */
export function loadWithTimeout<V>(
  key: string,
  loader: (key: string, context: LoadContext) => V | Promise<V>,
  options: LoadWithTimeoutOptions,
): Promise<V> {
  const { hardTimeoutMs, clock, optionName = 'hardTimeoutMs', scope = 'stampede' } = options;
  const controller = new AbortController();
  const run = async () => loader(key, { signal: controller.signal });
  if (hardTimeoutMs === undefined) return run();
  return new Promise<V>((resolve, reject) => {
    const timer = clock.setTimer(() => {
      const error = new LoaderTimeoutError(
        `[dc:${scope}] loading ${describeValue(key)} took longer than \`${optionName}\` (${hardTimeoutMs} ms)`,
      );
      controller.abort(error);
      reject(error);
    }, hardTimeoutMs);
    run().then(
      (value) => {
        timer.cancel();
        resolve(value);
      },
      (error: unknown) => {
        timer.cancel();
        reject(error);
      },
    );
  });
}
