import type { ResolvedMemoryStoreOptions } from '../options';
import { BaseStore } from './base-store';
import { IndexSet } from './index-set';
import { LFU_INIT_VAL, lfuDecrAndReturn, lfuLogIncr, lfuTimeInMinutes } from './redis-lfu';

/** How a {@link SampledStore} picks its victim among the candidates. */
export type SampleRule = 'random' | 'ttl' | 'redis-lfu' | 'none';

/**
 * The Redis-style modes that choose victims by sampling instead of keeping an order:
 * `*-random` (uniform), `volatile-ttl` (soonest expiry among `evictionSamples` sampled keys,
 * exact when there are no more candidates than samples), approximate LFU (lowest decayed 8-bit
 * counter among the samples) and `noeviction` (no candidates at all).
 */
export class SampledStore<V> extends BaseStore<V> {
  private readonly ranked: IndexSet;
  private readonly rule: SampleRule;
  private readonly samples: number;
  private readonly logFactor: number;
  private readonly decayTimeMs: number;
  private counter: Uint8Array | null = null;
  private ldt: Uint16Array | null = null;

  constructor(options: ResolvedMemoryStoreOptions<V>, rule: SampleRule) {
    super(options);
    this.rule = rule;
    this.samples = options.evictionSamples;
    this.logFactor = options.lfuLogFactor;
    this.decayTimeMs = options.lfuDecayTimeMs;
    this.ranked = new IndexSet(this.capacity);
    if (rule === 'redis-lfu') {
      this.counter = new Uint8Array(this.capacity);
      this.ldt = new Uint16Array(this.capacity);
    }
  }

  protected link(slot: number): void {
    this.ranked.add(slot);
    if (this.counter !== null) {
      this.counter[slot] = LFU_INIT_VAL;
      this.ldt![slot] = lfuTimeInMinutes(this.clock.now());
    }
  }

  protected unlink(slot: number): void {
    this.ranked.remove(slot);
  }

  protected touch(slot: number): void {
    const counter = this.counter;
    if (counter === null) return;
    // Redis `updateLFU`: decay first, then the probabilistic increment, then stamp the time.
    const now = lfuTimeInMinutes(this.clock.now());
    const decayed = lfuDecrAndReturn(counter[slot]!, this.ldt![slot]!, now, this.decayTimeMs);
    counter[slot] = lfuLogIncr(decayed, this.logFactor, this.random());
    this.ldt![slot] = now;
  }

  protected victim(exclude: number): number {
    const set = this.ranked;
    if (this.rule === 'none') return -1;
    if (this.rule === 'random') return set.pick(this.random, exclude);
    const n = set.count;
    // With no more candidates than samples, look at all of them: exact instead of sampled.
    const exhaustive = n <= this.samples;
    const rounds = exhaustive ? n : this.samples;
    const now = this.counter === null ? 0 : lfuTimeInMinutes(this.clock.now());
    let best = -1;
    let bestScore = Number.POSITIVE_INFINITY;
    for (let i = 0; i < rounds; i++) {
      const slot = exhaustive ? set.dense[i]! : set.pick(this.random, exclude);
      if (slot === exclude || slot === -1) continue;
      const score =
        this.counter === null
          ? this.exp![slot]!
          : lfuDecrAndReturn(this.counter[slot]!, this.ldt![slot]!, now, this.decayTimeMs);
      if (score < bestScore) {
        bestScore = score;
        best = slot;
      }
    }
    return best;
  }

  /** The approximate LFU counter of `key` after decay (Redis `OBJECT FREQ`), or `undefined`. */
  frequencyOf(key: string): number | undefined {
    const slot = this.map.get(key);
    if (slot === undefined || this.counter === null) return undefined;
    return lfuDecrAndReturn(
      this.counter[slot]!,
      this.ldt![slot]!,
      lfuTimeInMinutes(this.clock.now()),
      this.decayTimeMs,
    );
  }

  protected resetPolicy(): void {
    this.ranked.clear();
  }

  protected growPolicy(capacity: number): void {
    this.ranked.grow(capacity);
    if (this.counter !== null) {
      const counter = new Uint8Array(capacity);
      counter.set(this.counter);
      this.counter = counter;
      const ldt = new Uint16Array(capacity);
      ldt.set(this.ldt!);
      this.ldt = ldt;
    }
  }
}
