import { createServer } from 'node:net';

/** Lowest and highest port the harness hands out, far from 6379 and the usual service ports. */
const PORT_MIN = 20_000;
const PORT_MAX = 45_000;
/** Redis Cluster listens on `port + CLUSTER_BUS_OFFSET` for its node-to-node bus. */
export const CLUSTER_BUS_OFFSET = 10_000;

/** Ports handed out by this process and not yet released, so two callers never pick the same one. */
const reserved = new Set<number>();

/** True when a listener can bind `port` on 127.0.0.1 right now. */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      server.close(() => resolve(true));
    });
  });
}

/**
 * A loopback port in 20000–45000 that is free now (and, for cluster nodes, whose bus port
 * `port + 10000` is free too). Another process can still take it before redis-server binds it,
 * so callers retry startup on a bind failure.
 */
export async function pickFreePort(options: { withClusterBus?: boolean } = {}): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = PORT_MIN + Math.floor(Math.random() * (PORT_MAX - PORT_MIN + 1));
    if (
      reserved.has(port) ||
      reserved.has(port + CLUSTER_BUS_OFFSET) ||
      reserved.has(port - CLUSTER_BUS_OFFSET)
    )
      continue;
    if (!(await isPortFree(port))) continue;
    if (options.withClusterBus && !(await isPortFree(port + CLUSTER_BUS_OFFSET))) continue;
    reserved.add(port);
    return port;
  }
  throw new Error('[dc:testkit] found no free loopback port in 20000-45000 after 200 attempts');
}

/** Lets `port` be handed out again. */
export function releasePort(port: number): void {
  reserved.delete(port);
}
