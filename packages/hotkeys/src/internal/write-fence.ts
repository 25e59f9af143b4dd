/**
 * Guards read-then-fill sequences (an L1 fill, a replica repair) against a write that lands while
 * the read is in flight: a fill proceeds only if no write or delete for the key began since the
 * read started. State exists only for keys with a fill in flight.
 */
export interface WriteFence {
  /** Marks the start of a read whose result may be copied; returns a ticket for `isCurrent`. */
  begin(key: string): number;
  /** True when no write to `key` began since `begin` returned `ticket`. */
  isCurrent(key: string, ticket: number): boolean;
  /** Ends a read started with `begin`. */
  end(key: string): void;
  /** Records that a write or delete of `key` began. */
  invalidate(key: string): void;
}

interface FenceState {
  readers: number;
  generation: number;
}

export function createWriteFence(): WriteFence {
  const states = new Map<string, FenceState>();
  return {
    begin(key) {
      let state = states.get(key);
      if (state === undefined) {
        state = { readers: 0, generation: 0 };
        states.set(key, state);
      }
      state.readers++;
      return state.generation;
    },
    isCurrent(key, ticket) {
      return states.get(key)?.generation === ticket;
    },
    end(key) {
      const state = states.get(key);
      if (state !== undefined && --state.readers <= 0) states.delete(key);
    },
    invalidate(key) {
      const state = states.get(key);
      if (state !== undefined) state.generation++;
    },
  };
}
