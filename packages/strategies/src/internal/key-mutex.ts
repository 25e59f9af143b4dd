const noop = (): void => {};

/**
 * Serialises async work per key: a run for a key starts only after every earlier run for that
 * key settled, in call order. Keys with nothing queued cost no memory.
 */
export class KeyMutex {
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `task` once every earlier task for `key` has settled. */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key);
    const result = previous === undefined ? invoke(task) : previous.then(task);
    this.track(key, result);
    return result;
  }

  /**
   * Runs `task` once every earlier task for any of `keys` has settled. Registration is atomic
   * for all keys, so two multi-key runs can never wait on each other in a cycle.
   */
  runMany<T>(keys: Iterable<string>, task: () => Promise<T>): Promise<T> {
    const unique = new Set(keys);
    const previous: Promise<void>[] = [];
    for (const key of unique) {
      const tail = this.tails.get(key);
      if (tail !== undefined) previous.push(tail);
    }
    const result = previous.length === 0 ? invoke(task) : Promise.all(previous).then(task);
    // One shared tail for every key keeps a large batch at two promises, not two per key.
    const tail = result.then(noop, noop);
    for (const key of unique) this.tails.set(key, tail);
    void tail.then(() => {
      for (const key of unique) if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** True when no task is queued or running for `key`. */
  isIdle(key: string): boolean {
    return !this.tails.has(key);
  }

  /** Resolves once no task is queued or running for any key. */
  async settled(): Promise<void> {
    while (this.tails.size > 0) await Promise.all(this.tails.values());
  }

  /** Number of keys with queued or running work. */
  get size(): number {
    return this.tails.size;
  }

  private track(key: string, result: Promise<unknown>): void {
    const tail = result.then(noop, noop);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
  }
}

async function invoke<T>(task: () => Promise<T>): Promise<T> {
  return task();
}
