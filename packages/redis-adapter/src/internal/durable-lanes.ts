import type { Redis } from 'ioredis';
import { createReadyGate, whenReady } from './clients';

/**
 * Connections for `durability: 'replicated'` writes. Redis blocks a connection for the length of
 * a `WAIT`, so on one shared connection every write queues behind earlier WAITs — and reads behind
 * both; with no replica to answer (right after a failover) that turns each write into a timeout
 * (FAULTS S1). Each durable write takes the lane with the fewest writes in flight, except that a
 * write to a key already in flight takes that key's lane, so one process's writes to a key still
 * apply in call order. WAIT counts the writes of its own connection, so a write and its WAIT
 * always share a lane.
 */
export interface DurableLanes {
  /**
   * Runs `send` on a lane for `keys`. The lane counts as busy until `send`'s `busyUntil` settles
   * (the WAIT's reply: until then Redis holds the connection).
   */
  use<T>(
    keys: readonly string[],
    send: (client: Redis) => { result: Promise<T>; busyUntil: Promise<unknown> },
  ): Promise<T>;
}

export function createDurableLanes(clients: readonly Redis[]): DurableLanes {
  const gates = clients.map((client) => createReadyGate(client));
  const inFlight = new Array<number>(clients.length).fill(0);
  const laneOfKey = new Map<string, { lane: number; writes: number }>();

  const pickLane = (keys: readonly string[]): number => {
    for (const key of keys) {
      const taken = laneOfKey.get(key);
      if (taken !== undefined) return taken.lane;
    }
    let best = 0;
    for (let lane = 1; lane < inFlight.length; lane++) {
      if ((inFlight[lane] as number) < (inFlight[best] as number)) best = lane;
    }
    return best;
  };

  const release = (lane: number, keys: readonly string[]): void => {
    inFlight[lane] = (inFlight[lane] as number) - 1;
    for (const key of keys) {
      const taken = laneOfKey.get(key);
      if (taken === undefined) continue;
      if (--taken.writes === 0) laneOfKey.delete(key);
    }
  };

  return {
    use(keys, send) {
      const lane = pickLane(keys);
      inFlight[lane] = (inFlight[lane] as number) + 1;
      for (const key of keys) {
        const taken = laneOfKey.get(key);
        if (taken === undefined) laneOfKey.set(key, { lane, writes: 1 });
        else taken.writes++;
      }
      let released = false;
      const done = () => {
        if (released) return;
        released = true;
        release(lane, keys);
      };
      const client = clients[lane] as Redis;
      return whenReady(gates[lane] as () => Promise<void> | undefined, () => {
        const { result, busyUntil } = send(client);
        busyUntil.then(done, done);
        return result;
      }).catch((error: unknown) => {
        // `send` never ran (or threw before returning its promises): nothing holds the lane.
        done();
        throw error;
      });
    },
  };
}
