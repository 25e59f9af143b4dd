import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { isAbsolute } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  getFreePort,
  type RedisNode,
  RespError,
  requireRedisBinaries,
  runningProcessCount,
  startRedis,
  waitFor,
} from '../src/index';
import { killEverything, safetyNetInstalled } from '../src/internal/process-registry';
import { sendCommand } from '../src/internal/resp';
import { ephemeralPortMin, expectPidGone } from './helpers';

const started: RedisNode[] = [];
async function start(options?: Parameters<typeof startRedis>[0]): Promise<RedisNode> {
  const node = await startRedis(options);
  started.push(node);
  return node;
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((node) => node.stop()));
});

afterAll(() => {
  expect(runningProcessCount()).toBe(0);
});

describe('requireRedisBinaries', () => {
  it('returns absolute paths of redis-server and redis-cli when they are on PATH', () => {
    const { redisServer, redisCli } = requireRedisBinaries();
    expect(isAbsolute(redisServer) && redisServer.endsWith('redis-server')).toBe(true);
    expect(isAbsolute(redisCli) && redisCli.endsWith('redis-cli')).toBe(true);
  });

  it('throws a message that says how to install Redis when PATH has no redis-server', () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent-dc-testkit';
    try {
      expect(() => requireRedisBinaries()).toThrow(/apt-get install -y redis-server/);
      expect(() => requireRedisBinaries()).toThrow(/sudo apt-get/);
    } finally {
      process.env.PATH = path;
    }
  });
});

describe('startRedis', () => {
  it('starts a server on a free loopback port with the harness settings when called without options', async () => {
    const node = await start();
    expect(node.port).not.toBe(6379);
    expect(node.port).toBeGreaterThanOrEqual(20_000);
    // Below the ephemeral range, so restart() cannot lose the port to an outgoing connection.
    expect(node.port).toBeLessThan(Math.min(45_001, ephemeralPortMin()));
    expect(node.url).toBe(`redis://127.0.0.1:${node.port}`);
    expect(node.dir.startsWith(tmpdir())).toBe(true);
    expect(await node.command('CONFIG', 'GET', 'save')).toBe('save\n');
    expect(await node.command('CONFIG', 'GET', 'appendonly')).toBe('appendonly\nno');
    expect(await node.command('CONFIG', 'GET', 'bind')).toBe('bind\n127.0.0.1');
    expect(await node.command('CONFIG', 'GET', 'dir')).toMatch(
      new RegExp(`^dir\\n.*${node.dir.split('/').pop()}$`),
    );
    const info = await node.info('server');
    expect(Number(info.process_id)).toBe(node.pid);
    expect(Number(info.tcp_port)).toBe(node.port);
  });

  it('returns replies as text when commands succeed, and rejects with the server error otherwise', async () => {
    const node = await start();
    expect(await node.command('SET', 'k', 'v')).toBe('OK');
    expect(await node.command('GET', 'k')).toBe('v');
    expect(await node.command('GET', 'missing')).toBe('');
    expect(await node.command('INCRBY', 'n', '41')).toBe('41');
    await node.command('RPUSH', 'list', 'a', 'b');
    expect(await node.command('LRANGE', 'list', '0', '-1')).toBe('a\nb');
    await expect(node.command('NOSUCHCOMMAND')).rejects.toThrow(/unknown command/i);
  });

  it('sends a pipeline on one connection and returns error replies as RespError values', async () => {
    const node = await start();
    const replies = await node.pipeline([
      ['SET', 'p', '1'],
      ['INCR', 'p'],
      ['HGET', 'p', 'f'],
      ['CLIENT', 'ID'],
      ['CLIENT', 'ID'],
    ]);
    expect(replies.slice(0, 2)).toEqual(['OK', 2]);
    expect(replies[2]).toBeInstanceOf(RespError);
    expect((replies[2] as RespError).message).toMatch(/WRONGTYPE/);
    // Same connection for every command of the pipeline.
    expect(replies[3]).toBe(replies[4]);
    expect(await node.command('GET', 'p')).toBe('2');
  });

  it('gives two servers started together different ports and dirs', async () => {
    const [a, b] = await Promise.all([start(), start()]);
    expect(a!.port).not.toBe(b!.port);
    expect(a!.dir).not.toBe(b!.dir);
  });

  it('kills by pid and restarts on the same port and dir when kill and restart are called', async () => {
    const node = await start();
    await node.command('SET', 'k', 'v');
    const { pid, port, dir } = node;
    await node.kill();
    expect(node.state).toBe('killed');
    expectPidGone(pid);
    await expect(node.call(['PING'], { timeoutMs: 500 })).rejects.toThrow();
    await node.restart();
    expect(node.state).toBe('running');
    expect(node.pid).not.toBe(pid);
    expect([node.port, node.dir]).toEqual([port, dir]);
    expect(await node.command('PING')).toBe('PONG');
    // No persistence: a crash loses the data, which is what outage tests model.
    expect(await node.command('GET', 'k')).toBe('');
  });

  it('stops answering while frozen and answers again after resume', async () => {
    const node = await start();
    node.freeze();
    expect(node.state).toBe('frozen');
    await expect(node.call(['PING'], { timeoutMs: 200 })).rejects.toThrow(/timed out/);
    node.resume();
    expect(await node.command('PING')).toBe('PONG');
  });

  it('removes its dir and leaves no process when stop is called twice, even while frozen', async () => {
    const node = await start();
    node.freeze();
    const { pid, dir } = node;
    await Promise.all([node.stop(), node.stop()]);
    await node.stop();
    expect(node.state).toBe('stopped');
    expect(existsSync(dir)).toBe(false);
    expectPidGone(pid);
    await expect(node.restart()).rejects.toThrow(/stopped/);
  });

  it('requires AUTH when started with a password', async () => {
    const node = await start({ password: 's3cret' });
    expect(node.url).toBe(`redis://:s3cret@127.0.0.1:${node.port}`);
    expect(await node.command('PING')).toBe('PONG');
    await expect(
      sendCommand(['PING'], { host: node.host, port: node.port, timeoutMs: 1000 }),
    ).rejects.toThrow(/NOAUTH/);
  });

  it('authenticates as an ACL user when started with username and password', async () => {
    const node = await start({
      args: ['--user', 'default', 'off', '--user', 'admin', 'on', '>adminpw', '~*', '&*', '+@all'],
      username: 'admin',
      password: 'adminpw',
    });
    expect(node.url).toBe(`redis://admin:adminpw@127.0.0.1:${node.port}`);
    expect(await node.command('ACL', 'WHOAMI')).toBe('admin');
    await expect(
      sendCommand(['PING'], { host: node.host, port: node.port, timeoutMs: 1000 }),
    ).rejects.toThrow(/NOAUTH/);
  });

  it('allows DEBUG from loopback so tests can stall a server or digest its dataset', async () => {
    const node = await start();
    expect(await node.command('DEBUG', 'SLEEP', '0')).toBe('OK');
    expect(await node.command('DEBUG', 'DIGEST')).toMatch(/^[0-9a-f]{40}$/);
  });

  it('applies extra args after the defaults when args are given', async () => {
    const node = await start({ args: ['--maxmemory', '10mb', '--maxmemory-policy', 'allkeys-lru'] });
    expect(await node.command('CONFIG', 'GET', 'maxmemory-policy')).toBe('maxmemory-policy\nallkeys-lru');
  });

  it('rejects with the server output and leaves no process behind when the server cannot start', async () => {
    const before = runningProcessCount();
    await expect(startRedis({ args: ['--no-such-directive', 'x'] })).rejects.toThrow(/no-such-directive/i);
    expect(runningProcessCount()).toBe(before);
  });
});

describe('process-exit safety net', () => {
  it('SIGKILLs tracked servers and removes their dirs when the exit hook runs', async () => {
    const node = await startRedis();
    expect(safetyNetInstalled()).toBe(true);
    const { pid, dir } = node;
    killEverything();
    expect(runningProcessCount()).toBe(0);
    expect(existsSync(dir)).toBe(false);
    // The pid disappears once Node has reaped the child.
    await waitFor(
      () => {
        try {
          process.kill(pid, 0);
          return false;
        } catch {
          return true;
        }
      },
      { timeoutMs: 5_000, what: `pid ${pid} to be reaped` },
    );
    expectPidGone(pid);
    await node.stop();
  });
});

describe('getFreePort', () => {
  it('returns distinct loopback ports in the harness range that can be listened on', async () => {
    const [a, b] = await Promise.all([getFreePort(), getFreePort()]);
    expect(a).not.toBe(b);
    for (const port of [a, b]) {
      expect(port).toBeGreaterThanOrEqual(20_000);
      expect(port).toBeLessThanOrEqual(45_000);
      const server = createServer();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => resolve());
      });
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
