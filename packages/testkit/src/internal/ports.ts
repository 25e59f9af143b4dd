import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** Redis Cluster listens on `port + CLUSTER_BUS_OFFSET` for its node-to-node bus. */
export const CLUSTER_BUS_OFFSET = 10_000;
/** Lowest and highest port the harness hands out, far from 6379 and the usual service ports. */
const PORT_MIN = 20_000;
const PORT_MAX = 45_000;

/**
 * The range to draw from. Below the kernel's ephemeral range where it leaves room: an outgoing
 * connection can take any ephemeral port, and `restart()` must get the same port back.
 */
function portRange(withClusterBus: boolean): readonly [number, number] {
  const ephemeralMin = readEphemeralMin();
  const max = Math.min(PORT_MAX, ephemeralMin - 1 - (withClusterBus ? CLUSTER_BUS_OFFSET : 0));
  if (max - PORT_MIN >= 1_000) return [PORT_MIN, max];
  return [PORT_MIN, withClusterBus ? PORT_MAX - CLUSTER_BUS_OFFSET : PORT_MAX];
}

function readEphemeralMin(): number {
  try {
    const first = Number(
      readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0],
    );
    return Number.isInteger(first) && first > 0 ? first : PORT_MAX + 1;
  } catch {
    // Not Linux: use the whole range and rely on the startup retry.
    return PORT_MAX + 1;
  }
}

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
 * A loopback port in 20000–45000 (below the ephemeral range when possible) that is free now (and, for cluster nodes, whose bus port
 * `port + 10000` is free too). Another process can still take it before redis-server binds it,
 * so callers retry startup on a bind failure.
 */
export async function pickFreePort(options: { withClusterBus?: boolean } = {}): Promise<number> {
  const [min, max] = portRange(options.withClusterBus === true);
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = min + Math.floor(Math.random() * (max - min + 1));
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
