/**
 * FAULTS.md counts stderr lines `Unhandled error event` as surfaced errors: ioredis prints
 * `[ioredis] Unhandled error event: …` with `console.error` when a client emits `error` and
 * nobody listens. Under vitest `console` is its own object, so both it and `process.stderr` are
 * watched. Matching lines are still printed.
 */
const DEFAULT_PATTERN = /Unhandled error event|ClusterAllFailedError/;

export function watchStderr(pattern: RegExp = DEFAULT_PATTERN): {
  lines(): string[];
  stop(): void;
} {
  const seen: string[] = [];
  const check = (args: unknown[]) => {
    const text = args.map((a) => (a instanceof Error ? `${a.name}: ${a.message}` : String(a))).join(' ');
    if (pattern.test(text) && seen.length < 100) seen.push(text.slice(0, 300));
  };
  const original = { error: console.error, warn: console.warn, write: process.stderr.write };
  console.error = (...args: unknown[]) => {
    check(args);
    original.error.apply(console, args);
  };
  console.warn = (...args: unknown[]) => {
    check(args);
    original.warn.apply(console, args);
  };
  process.stderr.write = ((chunk: unknown, ...rest: unknown[]) => {
    check([typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8')]);
    return (original.write as (...a: unknown[]) => boolean).call(process.stderr, chunk, ...rest);
  }) as typeof process.stderr.write;
  return {
    lines: () => [...seen],
    stop() {
      console.error = original.error;
      console.warn = original.warn;
      process.stderr.write = original.write;
    },
  };
}
