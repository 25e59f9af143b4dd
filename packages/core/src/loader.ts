/** Per-call context passed to a loader. */
export interface LoadContext {
  /** Aborted when every caller waiting on this load has gone away or a hard timeout fired. */
  readonly signal?: AbortSignal;
}

/** Produces the value for a key on a miss (usually by asking the data source). */
export type Loader<V = unknown> = (key: string, context: LoadContext) => Promise<V>;

/** Wraps a loader and returns a loader: single-flight, timeouts, distributed locks. */
export type LoaderMiddleware<V = unknown> = (next: Loader<V>) => Loader<V>;

/** Applies `middleware` outermost-first: `composeLoader(l, a, b)` runs `a`, then `b`, then `l`. */
export function composeLoader<V>(
  loader: Loader<V>,
  ...middleware: ReadonlyArray<LoaderMiddleware<V>>
): Loader<V> {
  return middleware.reduceRight<Loader<V>>((next, wrap) => wrap(next), loader);
}
