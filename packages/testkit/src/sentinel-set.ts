import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertInteger, InvalidOptionError } from '@dc/core';
import { type RedisNode, startWithRetries } from './redis-node';
import { startReplicaPair, waitForStreaming } from './replica-set';
import type { RespReply } from './resp-reply';
import { waitFor } from './wait-for';

/** Options for {@link startSentinelSet}. */
export interface StartSentinelSetOptions {
  /** Name the sentinels monitor the primary under. @default 'mymaster' */
  masterName?: string;
  /** `sentinel down-after-milliseconds`. @default 1000 */
  downAfterMs?: number;
  /** `sentinel failover-timeout` (ms). @default 5000 */
  failoverTimeoutMs?: number;
  /** Sentinels needed to agree the primary is down. @default 2 */
  quorum?: number;
  /** Extra `redis-server` arguments for the primary and the replica (not the sentinels). */
  args?: string[];
  /** `requirepass` on the data nodes; the sentinels get it as `auth-pass` (they need none themselves). */
  password?: string;
  /** How long to wait for the sentinels to see each other and the replica (ms). @default 15000 */
  readyTimeoutMs?: number;
}

/** A primary, a replica and three sentinels monitoring them. */
export interface SentinelSetHandle {
  readonly masterName: string;
  /** The node started as primary (after a failover it is the replica, or down). */
  readonly primary: RedisNode;
  /** The node started as replica (after a failover it is the primary). */
  readonly replica: RedisNode;
  /** Three `redis-server <conf> --sentinel` processes. */
  readonly sentinels: RedisNode[];
  /** Sentinel addresses in the shape ioredis takes (`sentinels: [...]`). */
  sentinelAddresses(): Array<{ host: string; port: number }>;
  /** The data node the first answering sentinel names as primary right now. */
  currentPrimary(): Promise<RedisNode>;
  /** Stops every process and removes their dirs. Idempotent. */
  stop(): Promise<void>;
}

/** Defaults for {@link startSentinelSet}. */
export const DEFAULT_SENTINEL_SET_OPTIONS = Object.freeze({
  masterName: 'mymaster',
  downAfterMs: 1_000,
  failoverTimeoutMs: 5_000,
  quorum: 2,
  readyTimeoutMs: 15_000,
});

/**
 * Starts a primary, a replica and three sentinels (`redis-server sentinel.conf --sentinel`), and
 * resolves once every sentinel reports `num-other-sentinels` = 2 and sees the replica, and the
 * replica link is up.
 * @throws InvalidOptionError (`E_INVALID_OPTION`) for a bad timeout, quorum or master name.
 */
export async function startSentinelSet(options: StartSentinelSetOptions = {}): Promise<SentinelSetHandle> {
  const { masterName, downAfterMs, failoverTimeoutMs, quorum, readyTimeoutMs } = {
    ...DEFAULT_SENTINEL_SET_OPTIONS,
    ...options,
  };
  const { args, password } = options;
  assertInteger(downAfterMs, 'downAfterMs', 1, 'testkit');
  assertInteger(failoverTimeoutMs, 'failoverTimeoutMs', 1, 'testkit');
  assertInteger(quorum, 'quorum', 1, 'testkit');
  assertInteger(readyTimeoutMs, 'readyTimeoutMs', 1, 'testkit');
  if (quorum > 3) {
    throw new InvalidOptionError(
      `[dc:testkit] \`quorum\` must be at most 3 (the number of sentinels), got ${quorum}`,
    );
  }
  if (!/^[A-Za-z0-9_.-]+$/.test(masterName)) {
    throw new InvalidOptionError(
      `[dc:testkit] \`masterName\` must be letters, digits, '_', '.' or '-', got ${JSON.stringify(masterName)}`,
    );
  }
  const data = await startReplicaPair({ args, password, syncTimeoutMs: readyTimeoutMs });
  let streaming: Promise<void> | undefined;
  const sentinels: RedisNode[] = [];
  const stopAll = () => Promise.all([data.stop(), ...sentinels.map((s) => s.stop())]).then(() => undefined);
  try {
    const conf = (port: number, dir: string) =>
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `pidfile ${join(dir, 'sentinel.pid')}`,
        `logfile ${join(dir, 'sentinel.log')}`,
        'daemonize no',
        `sentinel monitor ${masterName} 127.0.0.1 ${data.primary.port} ${quorum}`,
        `sentinel down-after-milliseconds ${masterName} ${downAfterMs}`,
        `sentinel failover-timeout ${masterName} ${failoverTimeoutMs}`,
        ...(password === undefined ? [] : [`sentinel auth-pass ${masterName} ${password}`]),
        '',
      ].join('\n');
    const started = await Promise.allSettled(
      [0, 1, 2].map(() =>
        startWithRetries(
          'sentinel',
          { clusterBus: false },
          (port, dir) => ({
            kind: 'sentinel',
            port,
            dir,
            password: undefined,
            argv: [join(dir, 'sentinel.conf'), '--sentinel'],
          }),
          (spec) => writeFileSync(join(spec.dir, 'sentinel.conf'), conf(spec.port, spec.dir)),
        ),
      ),
    );
    for (const result of started) if (result.status === 'fulfilled') sentinels.push(result.value);
    const failed = started.find((result) => result.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    await Promise.all(sentinels.map(tuneSentinelPeriods));

    // Overlaps with the sentinels' discovery, which takes longer.
    streaming = waitForStreaming(data.primary, readyTimeoutMs);
    // Handled by the `await` below; this keeps an early rejection from being reported as unhandled.
    streaming.catch(() => {});
    await waitFor(
      async () => {
        for (const sentinel of sentinels) {
          const master = await sentinelMaster(sentinel, masterName);
          if (master['num-other-sentinels'] !== '2' || master['num-slaves'] !== '1') return false;
        }
        return true;
      },
      { timeoutMs: readyTimeoutMs, what: 'the three sentinels to discover each other and the replica' },
    );
    await streaming;
  } catch (error) {
    await stopAll();
    throw error;
  }

  let stopping: Promise<void> | undefined;
  const dataNodes = [data.primary, data.replica];
  return {
    masterName,
    primary: data.primary,
    replica: data.replica,
    sentinels,
    sentinelAddresses: () => sentinels.map((s) => ({ host: s.host, port: s.port })),
    async currentPrimary() {
      let lastError: unknown;
      for (const sentinel of sentinels) {
        if (sentinel.state !== 'running') continue;
        try {
          const [, port] = (await sentinel.command('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', masterName)).split(
            '\n',
          );
          const node = dataNodes.find((n) => String(n.port) === port);
          if (node) return node;
        } catch (error) {
          lastError = error;
        }
      }
      throw new Error(`[dc:testkit] no sentinel named a known primary for ${masterName}`, {
        cause: lastError,
      });
    },
    stop() {
      stopping ??= stopAll();
      return stopping;
    },
  };
}

/**
 * Sentinel's internal periods, shortened for tests (`SENTINEL DEBUG`, Redis 7.0+).
 *
 * - `ping-period`: a sentinel reconnects to an address at most once per ping period. After a
 *   failover it points its link at the new primary and starts the down-after clock at once, so
 *   with the default 1 s period and `down-after-milliseconds 1000` the first PONG can arrive
 *   just too late: a false `+sdown` on the new primary, a second failover, and a freshly
 *   restarted, empty old primary promoted (seen on a loaded 2-core CI box). 250 ms leaves the
 *   PONG three quarters of down-after.
 * - `info-period` and `publish-period`: a returning old primary is turned into a replica on an
 *   INFO poll at least 4 publish periods after it reported `master`; with the defaults (10 s,
 *   2 s) that took ~10 s, now ~2 s. Sentinels also find each other through publish-period hellos.
 */
export const SENTINEL_TEST_PERIODS_MS = Object.freeze({
  'ping-period': 250,
  'info-period': 1_000,
  'publish-period': 500,
});

/** Applies {@link SENTINEL_TEST_PERIODS_MS}; a Redis before 7.0 has no `SENTINEL DEBUG` and keeps its defaults. */
async function tuneSentinelPeriods(sentinel: RedisNode): Promise<void> {
  const args = Object.entries(SENTINEL_TEST_PERIODS_MS).flatMap(([name, ms]) => [name, String(ms)]);
  try {
    await sentinel.command('SENTINEL', 'DEBUG', ...args);
  } catch (error) {
    if (!/unknown|syntax/i.test((error as Error).message)) throw error;
  }
}

/** `SENTINEL MASTER <name>` as a record. */
export async function sentinelMaster(
  sentinel: RedisNode,
  masterName: string,
): Promise<Record<string, string>> {
  return recordOf(await sentinel.call(['SENTINEL', 'MASTER', masterName]));
}

/** `SENTINEL DEBUG` (the sentinel's internal periods, upper-case names such as `PING-PERIOD`) as a record. */
export async function sentinelDebug(sentinel: RedisNode): Promise<Record<string, string>> {
  return recordOf(await sentinel.call(['SENTINEL', 'DEBUG']));
}

/** A flat `[name, value, name, value, …]` reply as a record. */
function recordOf(reply: RespReply): Record<string, string> {
  const record: Record<string, string> = Object.create(null);
  if (Array.isArray(reply)) {
    for (let i = 0; i + 1 < reply.length; i += 2) record[String(reply[i])] = String(reply[i + 1]);
  }
  return record;
}
