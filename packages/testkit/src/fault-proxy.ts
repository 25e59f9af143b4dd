import { createServer, connect as netConnect, type Socket } from 'node:net';
import { assertInteger, assertNonNegativeMs, InvalidOptionError, type Random } from '@dc/core';

/** Where a {@link FaultProxy} forwards connections. */
export interface FaultProxyTarget {
  /** @default '127.0.0.1' */
  host?: string;
  port: number;
}

/** Options for {@link createFaultProxy}. */
export interface FaultProxyOptions {
  /** Source of randomness for {@link FaultProxy.setDropProbability}. @default Math.random */
  random?: Random;
}

/**
 * A TCP proxy on a free loopback port in front of one target, whose faults can be switched while
 * connections are open. Point the client under test at `127.0.0.1:port`.
 */
export interface FaultProxy {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** Open client connections. */
  readonly connectionCount: number;
  /** Chunks received and not yet forwarded (held by a delay or a black hole). */
  readonly queuedChunks: number;
  /** Holds every chunk, in both directions, for `ms` before forwarding it (order kept). `0` turns it off. */
  setDelay(ms: number): void;
  /** For each chunk received (either direction), closes its connection with probability `p` (0–1). */
  setDropProbability(p: number): void;
  /** Destroys every open connection with a TCP RST on both sides. */
  resetConnections(): void;
  /**
   * `true`: stops reading and forwarding (both directions) without closing anything, like a
   * partition: clients see silence. `false`: resumes; held data is then delivered, as TCP
   * retransmission would after a partition heals, so a connection's byte stream stays intact.
   */
  blackhole(on: boolean): void;
  /** Stops listening and destroys every connection. Idempotent. */
  close(): Promise<void>;
}

interface Pipe {
  readonly from: Socket;
  readonly to: Socket;
  readonly queue: Array<{ data: Buffer; dueAt: number }>;
  timer: NodeJS.Timeout | undefined;
  /** `from` sent FIN: end `to` once the queue is flushed. */
  ended: boolean;
  /** `from` is gone: tear the link down once the queue is flushed. */
  closed: boolean;
}

interface Link {
  readonly client: Socket;
  readonly upstream: Socket;
  readonly pipes: readonly [Pipe, Pipe];
}

/**
 * Starts a {@link FaultProxy} in front of `target`.
 * @throws InvalidOptionError for a bad target port.
 */
export async function createFaultProxy(
  target: FaultProxyTarget,
  options: FaultProxyOptions = {},
): Promise<FaultProxy> {
  assertInteger(target.port, 'target.port', 1, 'testkit');
  const targetHost = target.host ?? '127.0.0.1';
  const random = options.random ?? Math.random;
  let delayMs = 0;
  let dropProbability = 0;
  let holed = false;
  let closing: Promise<void> | undefined;
  const links = new Set<Link>();

  const destroyLink = (link: Link) => {
    if (!links.delete(link)) return;
    for (const pipe of link.pipes) clearTimeout(pipe.timer);
    link.client.destroy();
    link.upstream.destroy();
  };

  const pump = (link: Link, pipe: Pipe) => {
    if (holed || pipe.timer !== undefined) return;
    const now = Date.now();
    while (pipe.queue.length > 0 && (pipe.queue[0] as { dueAt: number }).dueAt <= now) {
      pipe.to.write((pipe.queue.shift() as { data: Buffer }).data);
    }
    const head = pipe.queue[0];
    if (head !== undefined) {
      pipe.timer = setTimeout(() => {
        pipe.timer = undefined;
        pump(link, pipe);
      }, head.dueAt - now);
    } else if (pipe.closed) {
      destroyLink(link);
    } else if (pipe.ended) {
      pipe.to.end();
    }
  };

  const wire = (link: Link, pipe: Pipe) => {
    pipe.from.on('data', (data: Buffer) => {
      if (dropProbability > 0 && random() < dropProbability) {
        destroyLink(link);
        return;
      }
      pipe.queue.push({ data, dueAt: Date.now() + delayMs });
      pump(link, pipe);
    });
    pipe.from.on('end', () => {
      pipe.ended = true;
      pump(link, pipe);
    });
    // Delayed data still owed to the other side is delivered before the link goes away.
    pipe.from.on('close', () => {
      pipe.closed = true;
      pump(link, pipe);
    });
    pipe.from.on('error', () => destroyLink(link));
  };

  const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (client) => {
    const upstream = netConnect({ host: targetHost, port: target.port, allowHalfOpen: true });
    const pipe = (from: Socket, to: Socket): Pipe => ({
      from,
      to,
      queue: [],
      timer: undefined,
      ended: false,
      closed: false,
    });
    const link: Link = { client, upstream, pipes: [pipe(client, upstream), pipe(upstream, client)] };
    links.add(link);
    for (const p of link.pipes) wire(link, p);
    if (!holed) client.resume();
    else upstream.pause();
  });
  server.on('error', () => {});

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;

  return {
    host: '127.0.0.1',
    port,
    get connectionCount() {
      return links.size;
    },
    get queuedChunks() {
      let count = 0;
      for (const link of links) count += link.pipes[0].queue.length + link.pipes[1].queue.length;
      return count;
    },
    setDelay(ms) {
      assertNonNegativeMs(ms, 'delay', 'testkit');
      delayMs = ms;
    },
    setDropProbability(p) {
      if (typeof p !== 'number' || !(p >= 0 && p <= 1)) {
        throw new InvalidOptionError(
          `[dc:testkit] drop probability must be a number in [0, 1], got ${String(p)}`,
        );
      }
      dropProbability = p;
    },
    resetConnections() {
      for (const link of [...links]) {
        for (const socket of [link.client, link.upstream]) {
          try {
            socket.resetAndDestroy();
          } catch {
            // Not connected yet: there is no TCP connection to reset.
            socket.destroy();
          }
        }
        destroyLink(link);
      }
    },
    blackhole(on) {
      holed = on;
      for (const link of links) {
        for (const pipe of link.pipes) {
          if (on) pipe.from.pause();
          else {
            pipe.from.resume();
            pump(link, pipe);
          }
        }
      }
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const link of [...links]) destroyLink(link);
      });
      return closing;
    },
  };
}
