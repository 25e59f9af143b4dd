/**
 * FAULTS X1 (ACL user: the suite works with the permissions the store needs; a missing
 * permission is one configuration error, no retry storm) and X2 (TLS: a self-signed server is
 * rejected unless its CA is given; `rediss://` is parsed; no plaintext fallback).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEntry, isDcError } from '@dc/core';
import { type RedisNode, runCacheStoreConformance, startRedis } from '@dc/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore, type RedisStoreEvent } from '../src/index';

const relaxed = { softTimeoutMs: 2_000, hardTimeoutMs: 4_000, failMode: 'closed' as const };

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let redis: RedisNode;
let tls: RedisNode;
let tlsPort: number;
let certDir: string;
let ca: string;

beforeAll(async () => {
  redis = await startRedis();
  // The store's user: its own key pattern, reads, writes, and what ioredis needs to connect.
  await redis.command(
    'ACL',
    'SETUSER',
    'cache',
    'on',
    '>pw',
    '~*:acl*',
    '&*',
    '-@all',
    '+@read',
    '+@write',
    '+@connection',
    '+scan',
    '+info',
    '+ping',
  );
  await redis.command(
    'ACL',
    'SETUSER',
    'readonly',
    'on',
    '>pw',
    '~*',
    '-@all',
    '+get',
    '+mget',
    '+@connection',
    '+info',
  );

  certDir = mkdtempSync(join(tmpdir(), 'dc-tls-'));
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: certDir, stdio: 'ignore' });
  run(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '1',
    '-subj',
    '/CN=dc-test-ca',
  );
  run(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    '/CN=localhost',
  );
  writeFileSync(join(certDir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  run(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '1',
    '-extfile',
    'ext.cnf',
  );
  ca = readFileSync(join(certDir, 'ca.crt'), 'utf8');
  tlsPort = await freePort();
  // The plain port stays for the harness' health checks; the store only uses the TLS port.
  tls = await startRedis({
    args: [
      '--tls-port',
      String(tlsPort),
      '--tls-cert-file',
      join(certDir, 'server.crt'),
      '--tls-key-file',
      join(certDir, 'server.key'),
      '--tls-ca-cert-file',
      join(certDir, 'ca.crt'),
      '--tls-auth-clients',
      'no',
    ],
  });
});
afterAll(async () => {
  await Promise.all([redis?.stop(), tls?.stop()]);
  if (certDir) rmSync(certDir, { recursive: true, force: true });
});

let n = 0;
runCacheStoreConformance(
  'createRedisStore (ACL user limited to its namespace)',
  async () => ({
    store: createRedisStore({
      connection: { host: '127.0.0.1', port: redis.port, username: 'cache', password: 'pw' },
      namespace: `acl${n++}`,
      ...relaxed,
    }),
  }),
  { realTime: true, serializes: true },
);

runCacheStoreConformance(
  'createRedisStore (TLS with the CA given)',
  async () => ({
    store: createRedisStore({
      connection: { host: '127.0.0.1', port: tlsPort, tls: { ca } },
      namespace: `tls${n++}`,
      ...relaxed,
    }),
  }),
  { realTime: true, serializes: true },
);

describe('createRedisStore with a user lacking a permission (X1)', () => {
  it('reports one configuration error and makes at most one attempt per op', async () => {
    const events: RedisStoreEvent[] = [];
    const store = createRedisStore<number>({
      connection: { host: '127.0.0.1', port: redis.port, username: 'readonly', password: 'pw' },
      namespace: 'x1',
      failMode: 'closed',
      onEvent: (e) => events.push(e),
    });
    await redis.command('ACL', 'LOG', 'RESET');
    const outcomes: string[] = [];
    for (let i = 0; i < 20; i++) {
      outcomes.push(
        await store.set(`k${i}`, createEntry(i, { now: Date.now(), ttlMs: 60_000 })).then(
          () => 'ok',
          (e: unknown) => (isDcError(e, 'E_STORE_UNAVAILABLE') ? 'typed' : 'other'),
        ),
      );
    }
    const log = (await redis.call(['ACL', 'LOG'])) as unknown[];
    // Each ACL LOG entry is a flat [field, value, ...] list with a `count` of identical denials.
    const denied = log.reduce<number>((sum, entry) => {
      const fields = entry as unknown[];
      const at = fields.indexOf('count');
      return sum + Number(fields[at + 1] ?? 0);
    }, 0);
    expect(outcomes.every((o) => o === 'typed')).toBe(true);
    expect(events.filter((e) => e.type === 'store:config-error')).toHaveLength(1);
    expect(denied).toBeGreaterThan(0);
    expect(denied).toBeLessThanOrEqual(20);
    // The breaker stops the retries: after the threshold, no more denied attempts.
    expect(store.stats().shortCircuits).toBeGreaterThan(0);
    await store.close();
  });
});

describe('createRedisStore over TLS (X2)', () => {
  it('refuses a self-signed server when its CA is not given, without falling back to plaintext', async () => {
    const events: RedisStoreEvent[] = [];
    const store = createRedisStore<number>({
      connection: `rediss://127.0.0.1:${tlsPort}`,
      namespace: 'x2',
      failMode: 'closed',
      onEvent: (e) => events.push(e),
    });
    const error = await store.get('k').catch((e: unknown) => e);
    expect(isDcError(error, 'E_STORE_UNAVAILABLE')).toBe(true);
    const clientErrors = events.filter((e) => e.type === 'store:client-error');
    expect(clientErrors.length).toBeGreaterThan(0);
    expect(String((clientErrors[0] as { error: Error }).error.message)).toMatch(/certificate|self.signed/i);
    await store.close();
  });

  it('connects with rediss:// and the CA', async () => {
    const store = createRedisStore<number>({
      connection: { url: `rediss://127.0.0.1:${tlsPort}`, tls: { ca } },
      namespace: 'x2ok',
      ...relaxed,
    });
    await store.set('k', createEntry(1, { now: Date.now(), ttlMs: 60_000 }));
    expect((await store.get('k'))?.value).toBe(1);
    await store.close();
  });
});
