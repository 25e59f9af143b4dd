/**
 * Coalesces the single-key reads issued in one tick into one multi-key read (with
 * `autoPipelining`): N concurrent `get`s cost Redis and ioredis one `MGET` — one command object,
 * one reply to parse, one `commandTimeout` timer — instead of N. Each caller still gets its own
 * promise, so the store's per-operation deadlines and breaker accounting are unchanged; if the
 * batch fails, every read in it fails with the same error.
 */
export function createReadCoalescer(
  readMany: (keys: string[]) => Promise<Array<string | null>>,
): (key: string) => Promise<string | null> {
  let keys: string[] = [];
  let waiters: Array<{ resolve(value: string | null): void; reject(error: unknown): void }> = [];

  const flush = (): void => {
    const batchKeys = keys;
    const batchWaiters = waiters;
    keys = [];
    waiters = [];
    let sent: Promise<Array<string | null>>;
    try {
      sent = readMany(batchKeys);
    } catch (error) {
      sent = Promise.reject(error);
    }
    sent.then(
      (values) => {
        for (let i = 0; i < batchWaiters.length; i++) batchWaiters[i]?.resolve(values[i] ?? null);
      },
      (error: unknown) => {
        for (const waiter of batchWaiters) waiter.reject(error);
      },
    );
  };

  return (key) =>
    new Promise<string | null>((resolve, reject) => {
      // After the current microtasks, like ioredis' own auto-pipelining: reads issued by
      // callbacks of one reply batch share the next MGET.
      if (keys.length === 0) process.nextTick(flush);
      keys.push(key);
      waiters.push({ resolve, reject });
    });
}
