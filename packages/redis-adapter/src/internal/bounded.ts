import { CacheUnavailableError } from '@dc/core';

/** `work`, or a `CacheUnavailableError` once `timeoutMs` has passed (the command is abandoned). */
export function bounded<T>(work: Promise<T>, timeoutMs: number, what: string, scope = 'redis'): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new CacheUnavailableError(`[dc:${scope}] ${what} got no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    timer.unref?.();
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(
          new CacheUnavailableError(
            `[dc:${scope}] ${what} failed: ${(error as Error)?.message ?? String(error)}`,
            {
              cause: error,
            },
          ),
        );
      },
    );
  });
}
