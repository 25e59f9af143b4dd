/** A deterministic PRNG (mulberry32) returning [0, 1), so tests and benchmarks replay exactly. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Draws `count` ranks from a Zipf(`skew`) distribution over `n` items (0 = most frequent). */
export function zipfStream(n: number, skew: number, count: number, random: () => number): Uint32Array {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    sum += 1 / (i + 1) ** skew;
    cdf[i] = sum;
  }
  const out = new Uint32Array(count);
  for (let j = 0; j < count; j++) {
    const target = random() * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((cdf[mid] as number) < target) lo = mid + 1;
      else hi = mid;
    }
    out[j] = lo;
  }
  return out;
}
