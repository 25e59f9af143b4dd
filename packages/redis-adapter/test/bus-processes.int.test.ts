/**
 * FAULTS D1: three cache instances in separate Node processes share an L2 and the Redis bus.
 * A writes a key 30 times; B and C, which read it every millisecond through their L1, must stop
 * serving the old value within p99 <= 100 ms and max <= 500 ms of A's call returning.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { rmSync } from 'node:fs';
import { type RedisNode, startRedis } from '@dc/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxOf, p99, printCounters, r1, sleep } from './chaos-helpers';
import { bundleChildScript } from './fixtures/bundle-child';

let redis: RedisNode;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

type Message = { type: string; version?: number; at?: number };

describe('createRedisBus across processes', () => {
  it('stops B and C serving an overwritten value within p99 100 ms of the write (D1)', async () => {
    const { file, dir } = bundleChildScript('./bus-node.ts');
    const nodes: ChildProcess[] = [];
    try {
      for (const name of ['A', 'B', 'C'])
        nodes.push(fork(file, [String(redis.port), name], { stdio: 'ignore' }));
      const [a, b, c] = nodes as [ChildProcess, ChildProcess, ChildProcess];
      await Promise.all(
        nodes.map(
          (n) =>
            new Promise<void>((resolve) => n.on('message', (m: Message) => m.type === 'ready' && resolve())),
        ),
      );
      const written = new Map<number, number>();
      const seen = [new Map<number, number>(), new Map<number, number>()];
      a.on('message', (m: Message) => {
        if (m.type === 'written') written.set(m.version as number, m.at as number);
      });
      for (const [i, n] of [b, c].entries()) {
        n.on('message', (m: Message) => {
          if (m.type === 'seen') seen[i]?.set(m.version as number, m.at as number);
        });
      }
      const write = (version: number) =>
        new Promise<void>((resolve) => {
          const done = (m: Message) => {
            if (m.type === 'written' && m.version === version) {
              a.off('message', done);
              resolve();
            }
          };
          a.on('message', done);
          a.send({ type: 'write', key: 'k', version });
        });
      await write(0);
      b.send({ type: 'watch', key: 'k' });
      c.send({ type: 'watch', key: 'k' });
      for (let i = 0; i < 100 && !(seen[0]?.has(0) && seen[1]?.has(0)); i++) await sleep(10);
      const VERSIONS = 30;
      for (let v = 1; v <= VERSIONS; v++) {
        await write(v);
        // Spaced as far apart as the p99 target, so every version can be observed.
        await sleep(100);
      }
      const staleness: number[] = [];
      let missed = 0;
      for (const observed of seen) {
        for (let v = 1; v <= VERSIONS; v++) {
          const at = observed.get(v);
          if (at === undefined) missed++;
          else staleness.push(Math.max(0, at - (written.get(v) as number)));
        }
      }
      printCounters({
        scenario: 'D1-three-processes-bus',
        acked: VERSIONS,
        maxLatMs: r1(maxOf(staleness)),
        p99LatMs: r1(p99(staleness)),
        staleReads: missed,
      });
      expect(missed).toBe(0);
      expect(p99(staleness)).toBeLessThanOrEqual(100);
      expect(maxOf(staleness)).toBeLessThanOrEqual(500);
      for (const n of nodes) n.send({ type: 'stop' });
      await Promise.all(
        nodes.map((n) => new Promise((r) => (n.exitCode === null ? n.on('exit', r) : r(null)))),
      );
    } finally {
      for (const n of nodes) if (n.exitCode === null) n.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
