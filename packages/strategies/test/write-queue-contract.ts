/**
 * The `WriteQueue` contract suite. Every queue implementation runs it: the in-memory queue in
 * this package (`memory-write-queue.test.ts`) and the Redis Streams queue in
 * `@dc/redis-adapter`, which imports this file by relative path:
 *
 * ```ts
 * import { runWriteQueueContract } from '../../strategies/test/write-queue-contract';
 * runWriteQueueContract('redis-stream', async ({ maxSize }) => {
 *   const queue = createRedisStreamQueue({ client, stream: `q:${randomUUID()}`, maxLen: maxSize });
 *   return { queue, elapse: (ms) => sleep(ms), cleanup: () => queue.close() };
 * }, { idleMs: 50 });
 * ```
 *
 * Semantics are those of a Redis Streams consumer group: `claim` = `XAUTOCLAIM` of idle
 * entries, then `XREADGROUP >`; `ack` = `XACK` (idempotent, by version).
 */
import { isDcError } from '@dc/core';
import { afterEach, describe, expect, it } from 'vitest';
import type { QueuedWrite, WriteQueue } from '../src/index';

/** One queue under test plus a way to let idle time pass for it. */
export interface WriteQueueHarness {
  readonly queue: WriteQueue<unknown>;
  /** Makes `ms` pass for the queue's idle-time accounting (a manual clock, or a real sleep). */
  elapse(ms: number): Promise<void>;
  /** Releases the queue and anything the factory created. @default queue.close() */
  cleanup?(): Promise<void>;
}

/** Options of {@link runWriteQueueContract}. */
export interface WriteQueueContractOptions {
  /** Idle time used for the claim tests (ms); small for real-time queues. @default 1000 */
  readonly idleMs?: number;
}

/** Creates a fresh, empty queue holding at most `maxSize` unacked entries. */
export type WriteQueueFactory = (options: {
  readonly maxSize: number;
}) => WriteQueueHarness | Promise<WriteQueueHarness>;

/** Registers the contract tests for one `WriteQueue` implementation. */
export function runWriteQueueContract(
  name: string,
  create: WriteQueueFactory,
  options: WriteQueueContractOptions = {},
): void {
  const idleMs = options.idleMs ?? 1_000;
  const open: WriteQueueHarness[] = [];
  const make = async (maxSize = 1_000): Promise<WriteQueueHarness> => {
    const harness = await create({ maxSize });
    open.push(harness);
    return harness;
  };
  const fill = async (queue: WriteQueue<unknown>, count: number, key = (i: number) => `k${i}`) => {
    const out: QueuedWrite<unknown>[] = [];
    for (let i = 0; i < count; i++) out.push(await queue.enqueue({ key: key(i), op: 'set', value: i }));
    return out;
  };

  describe(`WriteQueue contract: ${name}`, () => {
    afterEach(async () => {
      for (const harness of open.splice(0)) await (harness.cleanup?.() ?? harness.queue.close());
    });

    describe('enqueue', () => {
      it('assigns strictly increasing versions in enqueue order when writes are appended', async () => {
        const { queue } = await make();
        const written = await fill(queue, 20, (i) => `k${i % 3}`);
        for (let i = 1; i < written.length; i++) {
          expect(written[i]?.version).toBeGreaterThan(written[i - 1]?.version as number);
        }
        expect(written.every((w) => w.deliveries === 0)).toBe(true);
      });

      it('keeps tombstones ordered with the writes to the same key when a delete follows sets', async () => {
        const { queue } = await make();
        const set = await queue.enqueue({ key: 'user:1', op: 'set', value: { name: 'Ada' } });
        const del = await queue.enqueue({ key: 'user:1', op: 'delete' });
        expect(del.version).toBeGreaterThan(set.version);
        const claimed = await queue.claim('c1', { count: 10 });
        expect(claimed.map((w) => [w.key, w.op, w.version])).toEqual([
          ['user:1', 'set', set.version],
          ['user:1', 'delete', del.version],
        ]);
        expect(claimed[0]).toMatchObject({ value: { name: 'Ada' } });
        expect(claimed[1]).not.toHaveProperty('value');
      });

      it('rejects with E_BACKPRESSURE and adds nothing when the queue is full', async () => {
        const { queue } = await make(5);
        await fill(queue, 5);
        const error = await queue.enqueue({ key: 'extra', op: 'set', value: 1 }).catch((e: unknown) => e);
        expect(isDcError(error, 'E_BACKPRESSURE')).toBe(true);
        expect((await queue.pending()).depth).toBe(5);
        const claimed = await queue.claim('c1', { count: 10 });
        expect(claimed.map((w) => w.key)).not.toContain('extra');
      });

      it('accepts writes again when acks free space in a full queue', async () => {
        const { queue } = await make(3);
        await fill(queue, 3);
        const [first] = await queue.claim('c1', { count: 1 });
        await queue.ack([first?.version as number]);
        await expect(queue.enqueue({ key: 'again', op: 'set', value: 1 })).resolves.toMatchObject({
          key: 'again',
        });
      });

      it('rejects an invalid key with E_INVALID_KEY before storing anything', async () => {
        const { queue } = await make();
        const error = await queue.enqueue({ key: '', op: 'set', value: 1 }).catch((e: unknown) => e);
        expect(isDcError(error, 'E_INVALID_KEY')).toBe(true);
        expect((await queue.pending()).depth).toBe(0);
      });
    });

    describe('claim', () => {
      it('hands out entries oldest first, at most `count` at a time, with deliveries = 1', async () => {
        const { queue } = await make();
        const written = await fill(queue, 7);
        const first = await queue.claim('c1', { count: 4 });
        const second = await queue.claim('c1', { count: 4 });
        expect(first.map((w) => w.version)).toEqual(written.slice(0, 4).map((w) => w.version));
        expect(second.map((w) => w.version)).toEqual(written.slice(4).map((w) => w.version));
        expect([...first, ...second].every((w) => w.deliveries === 1)).toBe(true);
        expect(await queue.claim('c1', { count: 4 })).toEqual([]);
      });

      it('delivers each new entry to exactly one consumer of the group when consumers compete', async () => {
        const { queue } = await make();
        const written = await fill(queue, 30);
        const seen: number[] = [];
        for (let round = 0; round < 10; round++) {
          for (const consumer of ['a', 'b', 'c']) {
            for (const w of await queue.claim(consumer, { count: 2 })) seen.push(w.version);
          }
        }
        expect(seen.sort((x, y) => x - y)).toEqual(written.map((w) => w.version));
      });

      it('does not hand a claimed entry to anyone before it has been idle for minIdleMs', async () => {
        const { queue, elapse } = await make();
        await fill(queue, 3);
        await queue.claim('dead', { count: 3 });
        await elapse(Math.floor(idleMs / 4));
        expect(await queue.claim('alive', { count: 10, minIdleMs: idleMs })).toEqual([]);
        expect(await queue.claim('dead', { count: 10, minIdleMs: idleMs })).toEqual([]);
        expect((await queue.pending()).inFlight).toBe(3);
      });

      it('transfers entries pending on a dead consumer after minIdleMs, like XAUTOCLAIM', async () => {
        const { queue, elapse } = await make();
        const written = await fill(queue, 4);
        await queue.claim('dead', { count: 4 });
        await elapse(idleMs + Math.ceil(idleMs / 2));
        const reclaimed = await queue.claim('alive', { count: 10, minIdleMs: idleMs });
        expect(reclaimed.map((w) => w.version)).toEqual(written.map((w) => w.version));
        expect(reclaimed.every((w) => w.deliveries === 2)).toBe(true);
        expect(reclaimed[2]).toMatchObject({ key: 'k2', op: 'set', value: 2 });
        // Re-delivery resets the idle clock: nobody else gets them right away.
        expect(await queue.claim('third', { count: 10, minIdleMs: idleMs })).toEqual([]);
      });

      it('returns idle entries before new ones when both are available', async () => {
        const { queue, elapse } = await make();
        const [old] = await fill(queue, 1, () => 'old');
        await queue.claim('dead', { count: 1 });
        await elapse(idleMs + Math.ceil(idleMs / 2));
        const [fresh] = await fill(queue, 1, () => 'fresh');
        const claimed = await queue.claim('alive', { count: 5, minIdleMs: idleMs });
        expect(claimed.map((w) => w.version)).toEqual([old?.version, fresh?.version]);
      });

      it('never re-delivers idle entries when minIdleMs is omitted', async () => {
        const { queue, elapse } = await make();
        await fill(queue, 2);
        await queue.claim('dead', { count: 2 });
        await elapse(idleMs * 2);
        expect(await queue.claim('alive', { count: 10 })).toEqual([]);
      });

      it('rejects a count below 1 with E_INVALID_OPTION', async () => {
        const { queue } = await make();
        const error = await queue.claim('c1', { count: 0 }).catch((e: unknown) => e);
        expect(isDcError(error, 'E_INVALID_OPTION')).toBe(true);
      });
    });

    describe('ack', () => {
      it('removes acked entries so they are never delivered again, even after idle time', async () => {
        const { queue, elapse } = await make();
        await fill(queue, 3);
        const claimed = await queue.claim('c1', { count: 3 });
        expect(await queue.ack(claimed.slice(0, 2).map((w) => w.version))).toBe(2);
        await elapse(idleMs * 2);
        const again = await queue.claim('c2', { count: 10, minIdleMs: idleMs });
        expect(again.map((w) => w.version)).toEqual([claimed[2]?.version]);
        expect((await queue.pending()).depth).toBe(1);
      });

      it('is idempotent by version when an entry is acked twice or was never there', async () => {
        const { queue } = await make();
        const [w] = await fill(queue, 1);
        await queue.claim('c1', { count: 1 });
        expect(await queue.ack([w?.version as number])).toBe(1);
        expect(await queue.ack([w?.version as number])).toBe(0);
        expect(await queue.ack([987_654_321])).toBe(0);
        expect((await queue.pending()).depth).toBe(0);
      });

      it('lets the old and the new owner both ack a reclaimed entry, removing it once', async () => {
        const { queue, elapse } = await make();
        const [w] = await fill(queue, 1);
        await queue.claim('slow', { count: 1 });
        await elapse(idleMs + Math.ceil(idleMs / 2));
        await queue.claim('fast', { count: 1, minIdleMs: idleMs });
        const acks = [await queue.ack([w?.version as number]), await queue.ack([w?.version as number])];
        expect(acks).toEqual([1, 0]);
      });
    });

    describe('pending', () => {
      it('reports depth, in-flight entries and the oldest enqueue time', async () => {
        const { queue } = await make();
        expect(await queue.pending()).toEqual({ depth: 0, inFlight: 0, oldestEnqueuedAt: undefined });
        const written = await fill(queue, 5);
        await queue.claim('c1', { count: 2 });
        const stats = await queue.pending();
        expect(stats).toMatchObject({ depth: 5, inFlight: 2 });
        expect(stats.oldestEnqueuedAt).toBe(written[0]?.enqueuedAt);
        await queue.ack([written[0]?.version as number]);
        expect((await queue.pending()).oldestEnqueuedAt).toBe(written[1]?.enqueuedAt);
      });
    });

    describe('close', () => {
      it('rejects enqueue with E_CLOSED after close', async () => {
        const { queue } = await make();
        await queue.close();
        const error = await queue.enqueue({ key: 'k', op: 'set', value: 1 }).catch((e: unknown) => e);
        expect(isDcError(error, 'E_CLOSED')).toBe(true);
      });
    });
  });
}
