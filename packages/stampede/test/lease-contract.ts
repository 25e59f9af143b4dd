/**
 * The LeaseStore contract suite (leases after "Scaling Memcache at Facebook", NSDI 2013).
 * Every implementation runs it:
 *
 * ```ts
 * import { runLeaseContract } from '../../stampede/test/lease-contract';
 * runLeaseContract('redis leases', async () => ({
 *   leases: createRedisLeaseStore({ client }),
 *   now: () => Date.now(),
 *   advance: (ms) => new Promise((r) => setTimeout(r, ms)),
 * }));
 * ```
 *
 * `now()` is the implementation's notion of the current time (entries are built from it);
 * `advance(ms)` lets `ms` pass. Durations are multiples of `unitMs`.
 */
import { type CacheEntry, createEntry, isDcError } from '@dc/core';
import { afterEach, describe, expect, it } from 'vitest';
import type { LeaseRead, LeaseStore, LeaseToken } from '../src/index';

/** What a contract run needs from the implementation under test. */
export interface LeaseContractHarness {
  readonly leases: LeaseStore<string>;
  /** The current time (epoch ms) as the implementation sees it. */
  now(): number;
  /** Lets `ms` milliseconds pass (manual clock advance, or a real sleep). */
  advance(ms: number): Promise<void>;
  /** Cleans up after one test. */
  teardown?(): Promise<void>;
}

/** Options for {@link runLeaseContract}. */
export interface LeaseContractOptions {
  /** Base duration (ms) every TTL in the suite is a multiple of. @default 100 */
  readonly unitMs?: number;
}

async function rejection(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  return undefined;
}

function tokenOf(read: LeaseRead<string>): LeaseToken {
  expect(read.status).toBe('lease');
  return (read as Extract<LeaseRead<string>, { status: 'lease' }>).token;
}

/** Registers the contract tests for a {@link LeaseStore} under `describe(name)`. */
export function runLeaseContract(
  name: string,
  setup: () => LeaseContractHarness | Promise<LeaseContractHarness>,
  options: LeaseContractOptions = {},
): void {
  const u = options.unitMs ?? 100;
  let counter = 0;
  let current: LeaseContractHarness | undefined;
  const key = () => `dc-lease-contract:${process.pid}:${Date.now()}:${++counter}`;
  const harness = async () => {
    current = await setup();
    return current;
  };
  const fresh = (h: LeaseContractHarness, value: string, ttlMs = 100 * u, graceMs = 0): CacheEntry<string> =>
    createEntry(value, { now: h.now(), ttlMs, graceMs });

  describe(`${name} (LeaseStore contract)`, () => {
    afterEach(async () => {
      await current?.teardown?.();
      current = undefined;
    });

    it('grants one lease on a miss, tells later readers to wait, and serves the fill', async () => {
      const h = await harness();
      const k = key();
      const first = await h.leases.get(k, { leaseTtlMs: 50 * u });
      const token = tokenOf(first);
      expect(token.key).toBe(k);
      expect(first).toMatchObject({ stale: undefined });
      await expect(h.leases.get(k)).resolves.toEqual({ status: 'wait', stale: undefined });
      await expect(h.leases.fill(token, fresh(h, 'filled'))).resolves.toBe(true);
      const hit = await h.leases.get(k);
      expect(hit.status).toBe('hit');
      expect(hit.status === 'hit' && hit.entry.value).toBe('filled');
    });

    it('rejects a fill after delete voided the lease, and serves nothing older than the delete', async () => {
      const h = await harness();
      const k = key();
      const token = tokenOf(await h.leases.get(k, { leaseTtlMs: 50 * u }));
      await h.leases.delete(k);
      await expect(h.leases.fill(token, fresh(h, 'read-before-delete'))).resolves.toBe(false);
      const after = await h.leases.get(k, { leaseTtlMs: 50 * u });
      expect(after.status).toBe('lease');
      expect(after.status === 'lease' && after.stale).toBeUndefined();
      expect(tokenOf(after).id).not.toBe(token.id);
    });

    it('rejects a fill after set voided the lease, keeping the value that was set', async () => {
      const h = await harness();
      const k = key();
      const token = tokenOf(await h.leases.get(k, { leaseTtlMs: 50 * u }));
      await h.leases.set(k, fresh(h, 'newer'));
      await expect(h.leases.fill(token, fresh(h, 'older'))).resolves.toBe(false);
      const hit = await h.leases.get(k);
      expect(hit.status === 'hit' && hit.entry.value).toBe('newer');
    });

    it('lets the next reader take a lease once the holder releases it, once', async () => {
      const h = await harness();
      const k = key();
      const token = tokenOf(await h.leases.get(k, { leaseTtlMs: 50 * u }));
      await expect(h.leases.release(token)).resolves.toBe(true);
      await expect(h.leases.release(token)).resolves.toBe(false);
      const next = tokenOf(await h.leases.get(k, { leaseTtlMs: 50 * u }));
      expect(next.id).not.toBe(token.id);
      await expect(h.leases.fill(token, fresh(h, 'x'))).resolves.toBe(false);
    });

    it('grants a new lease after leaseTtlMs lapses and rejects the lapsed token', async () => {
      const h = await harness();
      const k = key();
      const lapsed = tokenOf(await h.leases.get(k, { leaseTtlMs: 2 * u }));
      await h.advance(3 * u);
      const renewed = tokenOf(await h.leases.get(k, { leaseTtlMs: 50 * u }));
      expect(renewed.id).not.toBe(lapsed.id);
      await expect(h.leases.fill(lapsed, fresh(h, 'lapsed'))).resolves.toBe(false);
      await expect(h.leases.fill(renewed, fresh(h, 'renewed'))).resolves.toBe(true);
    });

    it('consumes the token on fill', async () => {
      const h = await harness();
      const k = key();
      const token = tokenOf(await h.leases.get(k, { leaseTtlMs: 50 * u }));
      await expect(h.leases.fill(token, fresh(h, 'one'))).resolves.toBe(true);
      await expect(h.leases.fill(token, fresh(h, 'two'))).resolves.toBe(false);
      const hit = await h.leases.get(k);
      expect(hit.status === 'hit' && hit.entry.value).toBe('one');
    });

    it('hands a stale entry to the lease holder and to waiting readers', async () => {
      const h = await harness();
      const k = key();
      await h.leases.set(k, fresh(h, 'stale', u, 100 * u));
      await h.advance(2 * u);
      const holder = await h.leases.get(k, { leaseTtlMs: 50 * u });
      expect(holder.status).toBe('lease');
      expect(holder.status === 'lease' && holder.stale?.value).toBe('stale');
      const waiter = await h.leases.get(k);
      expect(waiter.status).toBe('wait');
      expect(waiter.status === 'wait' && waiter.stale?.value).toBe('stale');
    });

    it('never returns an entry past its expiresAt', async () => {
      const h = await harness();
      const k = key();
      await h.leases.set(k, fresh(h, 'gone', u, 0));
      await h.advance(2 * u);
      const read = await h.leases.get(k, { leaseTtlMs: 50 * u });
      expect(read.status).toBe('lease');
      expect(read.status === 'lease' && read.stale).toBeUndefined();
    });

    it('reports whether delete removed an entry', async () => {
      const h = await harness();
      const k = key();
      await expect(h.leases.delete(k)).resolves.toBe(false);
      await h.leases.set(k, fresh(h, 'v'));
      await expect(h.leases.delete(k)).resolves.toBe(true);
    });

    it('rejects bad input with typed errors before any I/O', async () => {
      const h = await harness();
      const k = key();
      expect(isDcError(await rejection(() => h.leases.get('')), 'E_INVALID_KEY')).toBe(true);
      for (const bad of [0, -1, Number.NaN]) {
        expect(
          isDcError(await rejection(() => h.leases.get(k, { leaseTtlMs: bad })), 'E_INVALID_OPTION'),
        ).toBe(true);
      }
      const token = tokenOf(await h.leases.get(k, { leaseTtlMs: 50 * u }));
      const malformed = { value: 'x', expiresAt: Number.NaN, staleAt: 0 } as CacheEntry<string>;
      expect(isDcError(await rejection(() => h.leases.fill(token, malformed)), 'E_INVALID_OPTION')).toBe(
        true,
      );
      expect(
        isDcError(await rejection(() => h.leases.fill({} as LeaseToken, fresh(h, 'x'))), 'E_INVALID_OPTION'),
      ).toBe(true);
      expect(isDcError(await rejection(() => h.leases.set('', fresh(h, 'x'))), 'E_INVALID_KEY')).toBe(true);
      // The malformed calls changed nothing: the lease is still valid.
      await expect(h.leases.fill(token, fresh(h, 'ok'))).resolves.toBe(true);
    });
  });
}
