import { connect, type Socket } from 'node:net';
import { isDcError } from '@dc/core';
import Redis from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createFaultProxy,
  type FaultProxy,
  type RedisNode,
  runningProcessCount,
  startRedis,
  waitFor,
} from '../src/index';
import { expectPidGone } from './helpers';

/** A raw client that records what the proxy delivers and how the connection ended. */
function rawClient(port: number) {
  const socket: Socket = connect({ host: '127.0.0.1', port });
  const state = { received: '', closed: false, errorCode: undefined as string | undefined };
  socket.on('data', (chunk) => {
    state.received += chunk.toString('utf8');
  });
  socket.on('error', (error: NodeJS.ErrnoException) => {
    state.errorCode = error.code;
  });
  socket.on('close', () => {
    state.closed = true;
  });
  const connected = new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return { socket, state, connected };
}

const PING = '*1\r\n$4\r\nPING\r\n';

describe('createFaultProxy', () => {
  let redis: RedisNode;
  let proxy: FaultProxy;
  let randomValue = 0.5;
  const clients: Socket[] = [];

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    for (const socket of clients.splice(0)) socket.destroy();
    await proxy?.close();
  });
  afterAll(async () => {
    const { pid } = redis;
    await redis.stop();
    expect(runningProcessCount()).toBe(0);
    expectPidGone(pid);
  });

  async function open() {
    proxy = await createFaultProxy({ port: redis.port }, { random: () => randomValue });
    const client = rawClient(proxy.port);
    clients.push(client.socket);
    await client.connected;
    return client;
  }

  it('forwards an ioredis client to the target when no fault is set', async () => {
    proxy = await createFaultProxy({ port: redis.port });
    expect(proxy.port).not.toBe(redis.port);
    const client = new Redis({
      host: '127.0.0.1',
      port: proxy.port,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
    });
    client.on('error', () => {});
    try {
      await client.connect();
      expect(await client.set('proxied', 'yes')).toBe('OK');
      expect(await redis.command('GET', 'proxied')).toBe('yes');
      expect(await client.get('proxied')).toBe('yes');
      expect(proxy.connectionCount).toBe(1);
    } finally {
      client.disconnect();
    }
  });

  it('delays data in both directions when a delay is set', async () => {
    const { socket, state } = await open();
    proxy.setDelay(150);
    const sentAt = Date.now();
    socket.write(PING);
    await waitFor(() => state.received === '+PONG\r\n', { timeoutMs: 3000, what: 'the delayed PONG' });
    // 150 ms to the server plus 150 ms back (a lower bound, so the check is not timing-flaky).
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(295);

    proxy.setDelay(0);
    state.received = '';
    socket.write(PING);
    await waitFor(() => state.received === '+PONG\r\n', { timeoutMs: 1000, what: 'the undelayed PONG' });
  });

  it('keeps byte order when the delay shrinks between chunks', async () => {
    const { socket, state } = await open();
    proxy.setDelay(200);
    socket.write('*2\r\n$4\r\nECHO\r\n$1\r\na\r\n');
    await waitFor(() => proxy.queuedChunks === 1, { timeoutMs: 1000, what: 'the first chunk to be held' });
    proxy.setDelay(0);
    socket.write('*2\r\n$4\r\nECHO\r\n$1\r\nb\r\n');
    await waitFor(() => state.received.length >= 14, { timeoutMs: 3000, what: 'both replies' });
    expect(state.received).toBe('$1\r\na\r\n$1\r\nb\r\n');
  });

  it('closes the connection on a chunk when random() falls under the drop probability', async () => {
    const { socket, state } = await open();
    randomValue = 0.5;
    proxy.setDropProbability(0.4);
    socket.write(PING);
    await waitFor(() => state.received === '+PONG\r\n', { timeoutMs: 1000, what: 'PONG while not dropping' });
    proxy.setDropProbability(0.6);
    socket.write(PING);
    await waitFor(() => state.closed, { timeoutMs: 1000, what: 'the dropped connection to close' });
    expect(state.received).toBe('+PONG\r\n');
    expect(state.errorCode).toBeUndefined();
    expect(proxy.connectionCount).toBe(0);
  });

  it('sends a TCP RST to every client when resetConnections is called', async () => {
    const first = await open();
    const second = rawClient(proxy.port);
    clients.push(second.socket);
    await second.connected;
    await waitFor(() => proxy.connectionCount === 2, { timeoutMs: 1000, what: 'two links' });
    proxy.resetConnections();
    await waitFor(() => first.state.closed && second.state.closed, {
      timeoutMs: 1000,
      what: 'both to close',
    });
    expect(first.state.errorCode).toBe('ECONNRESET');
    expect(second.state.errorCode).toBe('ECONNRESET');
    expect(proxy.connectionCount).toBe(0);
    expect(await redis.command('PING')).toBe('PONG');
  });

  it('holds traffic without closing while black-holed and delivers it after the black hole ends', async () => {
    const { socket, state } = await open();
    proxy.blackhole(true);
    socket.write(PING);
    const late = rawClient(proxy.port);
    clients.push(late.socket);
    await late.connected;
    late.socket.write(PING);
    // Bounded real wait: nothing may arrive while black-holed.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect([state.received, late.state.received]).toEqual(['', '']);
    expect([state.closed, late.state.closed]).toEqual([false, false]);

    proxy.blackhole(false);
    await waitFor(() => state.received === '+PONG\r\n' && late.state.received === '+PONG\r\n', {
      timeoutMs: 1000,
      what: 'the held PONGs',
    });
  });

  it('stops accepting and closes its connections when closed, idempotently', async () => {
    const { state } = await open();
    const { port } = proxy;
    await Promise.all([proxy.close(), proxy.close()]);
    await waitFor(() => state.closed, { timeoutMs: 1000, what: 'the client to be closed' });
    const after = rawClient(port);
    await waitFor(() => after.state.closed, { timeoutMs: 1000, what: 'the refused connect' });
    expect(after.state.errorCode).toBe('ECONNREFUSED');
  });

  it('rejects a bad delay, drop probability or target with E_INVALID_OPTION', async () => {
    proxy = await createFaultProxy({ port: redis.port });
    const codeOf = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return isDcError(error, 'E_INVALID_OPTION') ? error.message : 'wrong error';
      }
      return 'no error';
    };
    expect(codeOf(() => proxy.setDelay(-1))).toMatch(/delay/);
    expect(codeOf(() => proxy.setDelay(Number.NaN))).toMatch(/delay/);
    expect(codeOf(() => proxy.setDropProbability(1.5))).toMatch(/drop probability/);
    expect(codeOf(() => proxy.setDropProbability(Number.NaN))).toMatch(/drop probability/);
    await expect(createFaultProxy({ port: 0 })).rejects.toSatisfy((e) => isDcError(e, 'E_INVALID_OPTION'));
  });
});
