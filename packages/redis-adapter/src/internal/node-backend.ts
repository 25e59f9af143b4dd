import type { Redis } from 'ioredis';
import {
  type Backend,
  execPipeline,
  MAX_SCAN_STEPS,
  SCAN_COUNT,
  type StoredWrite,
  sendWithWait,
  type WaitPolicy,
  writeThenWait,
} from './backend';
import { createReadyGate, whenReady } from './clients';
import { createDurableLanes } from './durable-lanes';
import { createReadCoalescer } from './read-coalescer';

/**
 * A single primary (`writer`), optionally read through another connection (`reader()`, a
 * replica). Writes and their `WAIT` share the writer's one connection, so WAIT counts them
 * (a new connection has nothing to wait for; FAULTS B10).
 */
export function createNodeBackend(config: {
  /** Breaker name of this node (its address, or the Sentinel master's name). */
  node: string;
  writer: Redis;
  reader?: () => Redis;
  wait?: WaitPolicy | undefined;
  /**
   * Connections that carry the writes and WAITs of `durability: 'replicated'`, so reads and other
   * writes never queue behind a blocking WAIT (see `createDurableLanes`). Without them, the writer.
   */
  durableWriters?: readonly Redis[];
  /** Coalesce the `get`s of one tick into one `MGET` (the store's `autoPipelining`). */
  coalesceReads?: boolean;
  close: () => Promise<void>;
}): Backend {
  const { writer, wait } = config;
  const lanes =
    wait !== undefined && config.durableWriters !== undefined && config.durableWriters.length > 0
      ? createDurableLanes(config.durableWriters)
      : undefined;
  const writerGate = createReadyGate(writer);
  const readerGates = new WeakMap<Redis, () => Promise<void> | undefined>();
  const readerOf = config.reader;
  const read = <T>(fn: (client: Redis) => Promise<T>): Promise<T> => {
    if (readerOf === undefined) return whenReady(writerGate, () => fn(writer));
    const client = readerOf();
    let gate = readerGates.get(client);
    if (gate === undefined) {
      gate = client === writer ? writerGate : createReadyGate(client);
      readerGates.set(client, gate);
    }
    return whenReady(gate, () => fn(client));
  };
  const write = <T>(fn: (client: Redis) => Promise<T>): Promise<T> => whenReady(writerGate, () => fn(writer));

  const readMany = (keys: string[]): Promise<Array<string | null>> => {
    if (readerOf === undefined && writerGate() === undefined) return writer.mget(keys);
    return read((c) => c.mget(...keys));
  };
  const coalescedGet = config.coalesceReads === true ? createReadCoalescer(readMany) : undefined;

  const node = config.node;
  return {
    nodeOf: () => node,
    onlyNode: node,
    get(key) {
      if (coalescedGet !== undefined) return coalescedGet(key);
      // The common case (one connection, ready) without the closures `read` allocates.
      if (readerOf === undefined && writerGate() === undefined) return writer.get(key);
      return read((c) => c.get(key));
    },
    mget(keys) {
      return readMany(keys as string[]);
    },
    set([key, payload, pxat]) {
      if (lanes !== undefined && wait !== undefined) {
        return lanes
          .use([key], (c) => sendWithWait(c.set(key, payload, 'PXAT', pxat), c, wait))
          .then(([, replicas]) => replicas);
      }
      return write(async (c) => {
        if (wait === undefined) {
          await c.set(key, payload, 'PXAT', pxat);
          return -1;
        }
        return writeThenWait(c.set(key, payload, 'PXAT', pxat), c, wait);
      });
    },
    mset(writes: readonly StoredWrite[]) {
      if (lanes !== undefined && wait !== undefined) {
        return lanes
          .use(
            writes.map(([key]) => key),
            (c) => {
              const pipeline = c.pipeline();
              for (const [key, payload, pxat] of writes) pipeline.set(key, payload, 'PXAT', pxat);
              return sendWithWait(execPipeline(pipeline), c, wait);
            },
          )
          .then(([, replicas]) => replicas);
      }
      return write(async (c) => {
        const pipeline = c.pipeline();
        for (const [key, payload, pxat] of writes) pipeline.set(key, payload, 'PXAT', pxat);
        if (wait === undefined) {
          await execPipeline(pipeline);
          return -1;
        }
        return writeThenWait(execPipeline(pipeline), c, wait);
      });
    },
    unlink(keys) {
      if (lanes !== undefined && wait !== undefined) {
        return lanes.use(keys, (c) => sendWithWait(c.unlink(...keys), c, wait)).then(([removed]) => removed);
      }
      return write(async (c) => {
        if (wait === undefined) return c.unlink(...keys);
        const [removed] = await execPipeline(
          c
            .pipeline()
            .unlink(...keys)
            .wait(wait.replicas, wait.timeoutMs),
        );
        return removed as number;
      });
    },
    scanUnlink(pattern) {
      return write(async (c) => {
        let cursor = '0';
        for (let step = 0; step < MAX_SCAN_STEPS; step++) {
          const [next, keys] = await c.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT);
          if (keys.length > 0) await c.unlink(...keys);
          cursor = next;
          if (cursor === '0') break;
        }
        if (wait !== undefined) await c.wait(wait.replicas, wait.timeoutMs);
      });
    },
    close: config.close,
  };
}
