/**
 * ioredis ends a client for good when its connector's connect() rejects, which a Sentinel client's
 * stale failover detector triggers after a failover (ioredis#1362; FAULTS S1). These tests drive
 * that exact path on real servers: the connector is disconnected while the client is connecting.
 */
import { type RedisNode, type SentinelSetHandle, startRedis, startSentinelSet, waitFor } from '@dc/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failFastRedisOptions } from '../src/client-options';
import { closeOwnedClient, keepConnected } from '../src/internal/clients';
import { sleep } from './chaos-helpers';

/** Disconnects the client's connector as its next connect attempt starts, so that attempt rejects. */
function rejectNextConnect(client: Redis): void {
  client.once('connecting', () => {
    (client as unknown as { connector: { disconnect(): void } }).connector.disconnect();
  });
}

/** Drops the connection and makes the reconnect that follows fail the way ioredis#1362 does. */
async function endWhileReconnecting(client: Redis): Promise<void> {
  const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
  client.disconnect(true);
  rejectNextConnect(client);
  await ended;
}

const readyAgain = (client: Redis) =>
  waitFor(async () => client.status === 'ready' && (await client.ping()) === 'PONG', {
    timeoutMs: 2_000,
    intervalMs: 10,
    what: 'the client to be ready again',
  });

describe('keepConnected', () => {
  let redis: RedisNode;
  let sentinels: SentinelSetHandle;
  const clients: Redis[] = [];
  const track = (client: Redis) => {
    client.on('error', () => {});
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    [redis, sentinels] = await Promise.all([startRedis(), startSentinelSet()]);
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => closeOwnedClient(c)));
    await Promise.all([redis?.stop(), sentinels?.stop()]);
  });

  it('leaves a plain ioredis client ended when a reconnect is rejected (the failure it guards)', async () => {
    const client = track(new Redis({ ...failFastRedisOptions(), port: redis.port }));
    await readyAgain(client);
    await endWhileReconnecting(client);
    await sleep(700);
    expect(client.status).toBe('end');
  });

  it('reconnects a standalone client that ended while reconnecting', async () => {
    const client = track(keepConnected(new Redis({ ...failFastRedisOptions(), port: redis.port })));
    await readyAgain(client);
    await endWhileReconnecting(client);
    await readyAgain(client);
    expect(await client.set('kept', '1')).toBe('OK');
  });

  it('reconnects a Sentinel client with a failover detector that ended while reconnecting', async () => {
    const client = track(
      keepConnected(
        new Redis({
          ...failFastRedisOptions(),
          sentinels: sentinels.sentinelAddresses(),
          name: sentinels.masterName,
          failoverDetector: true,
        }),
      ),
    );
    await readyAgain(client);
    await endWhileReconnecting(client);
    await readyAgain(client);
    expect(await client.call('ROLE').then((role) => (role as unknown[])[0])).toBe('master');
  });

  it('keeps retrying while each reconnect is rejected, then connects', async () => {
    const client = track(keepConnected(new Redis({ ...failFastRedisOptions(), port: redis.port })));
    await readyAgain(client);
    let rejected = 0;
    const rejectTwice = () => {
      if (++rejected < 3) rejectNextConnect(client);
    };
    client.on('end', rejectTwice);
    await endWhileReconnecting(client);
    await readyAgain(client);
    client.off('end', rejectTwice);
    expect(rejected).toBe(3);
  });

  it('leaves a client ended by disconnect() or by closeOwnedClient ended', async () => {
    const disconnected = track(keepConnected(new Redis({ ...failFastRedisOptions(), port: redis.port })));
    const closed = track(keepConnected(new Redis({ ...failFastRedisOptions(), port: redis.port })));
    await Promise.all([readyAgain(disconnected), readyAgain(closed)]);
    disconnected.disconnect();
    // closeOwnedClient while a rejected reconnect's revival is pending: the revival is cancelled.
    await endWhileReconnecting(closed);
    await closeOwnedClient(closed);
    await sleep(700);
    expect(disconnected.status).toBe('end');
    expect(closed.status).toBe('end');
  });
});
