import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidOptionError } from '@dc/core';
import { requireRedisBinaries } from './binaries';
import { pickFreePort, releasePort } from './internal/ports';
import { trackDir, trackPid, untrackDir, untrackPid } from './internal/process-registry';
import { parseInfo, replyToText, sendCommand, sendCommands } from './internal/resp';
import type { RespReply } from './resp-reply';
import { waitFor } from './wait-for';

/** Lifecycle of a {@link RedisNode}. */
export type RedisNodeState = 'running' | 'frozen' | 'killed' | 'stopped';

/** One real `redis-server` (or Sentinel) process on a loopback port, in its own temp dir. */
export interface RedisNode {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** Current pid; changes after {@link RedisNode.restart}. */
  readonly pid: number;
  /** Its own temp dir under `os.tmpdir()`, removed by {@link RedisNode.stop}. */
  readonly dir: string;
  /** `redis://127.0.0.1:<port>` (with the credentials when set). */
  readonly url: string;
  /** `requirepass` of the node, when started with one. */
  readonly password: string | undefined;
  /** ACL user the harness authenticates as, when started with `username`. */
  readonly username: string | undefined;
  /** `'running'`, `'frozen'` (SIGSTOP), `'killed'` (restartable) or `'stopped'` (final). */
  readonly state: RedisNodeState;
  /** Path of the server's log file (inside {@link RedisNode.dir}). */
  readonly logFile: string;
  /**
   * Sends one command on a fresh connection and resolves the reply as text: arrays one item per
   * line (flattened), nil as `''`, integers in decimal.
   * @throws Error with the server's error text, or after a 2 s timeout (a frozen node).
   */
  command(...args: string[]): Promise<string>;
  /** Like {@link RedisNode.command} but resolves the decoded RESP reply (nested arrays kept). */
  call(args: readonly string[], options?: { timeoutMs?: number }): Promise<RespReply>;
  /**
   * Sends `commands` in order on one fresh connection and resolves every reply, error replies
   * as `RespError` values. Use it for `WAIT`, which only counts writes made on its own connection.
   */
  pipeline(
    commands: ReadonlyArray<readonly string[]>,
    options?: { timeoutMs?: number },
  ): Promise<RespReply[]>;
  /** `INFO [section]` as a record of `field -> value`. */
  info(section?: string): Promise<Record<string, string>>;
  /** SIGKILL by pid; resolves once the process has exited and been reaped. */
  kill(): Promise<void>;
  /** SIGSTOP by pid: the server stops answering but keeps its sockets open. */
  freeze(): void;
  /** SIGCONT by pid. */
  resume(): void;
  /** Starts the server again on the same port and dir (killing it first if it runs); resolves once it answers PING. */
  restart(): Promise<void>;
  /** SIGTERM (after SIGCONT if frozen), SIGKILL after 2 s; then removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

/** Options for {@link startRedis}. */
export interface StartRedisOptions {
  /** Extra `redis-server` arguments, appended last so they override the harness defaults. */
  args?: string[];
  /** Starts a cluster-enabled node (`nodes.conf` in its dir); its bus port `port + 10000` is kept free too. @default false */
  clusterEnabled?: boolean;
  /**
   * Sets `requirepass` and `masterauth`; {@link RedisNode.command} authenticates with it. With
   * `username`, neither is set: the harness sends `AUTH username password` instead.
   */
  password?: string;
  /**
   * ACL user the harness authenticates as (with `password`). Define the user yourself in `args`,
   * e.g. `['--user', 'default', 'off', '--user', 'admin', 'on', '>pw', '~*', '&*', '+@all']`.
   */
  username?: string;
}

/** @internal What {@link launchNode} needs to start and restart one process. */
export interface NodeSpec {
  readonly kind: 'redis' | 'sentinel';
  readonly port: number;
  readonly dir: string;
  readonly password: string | undefined;
  readonly username?: string | undefined;
  /** Full argv after the executable. */
  readonly argv: readonly string[];
}

const STARTUP_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 2_000;
const EXIT_TIMEOUT_MS = 5_000;
const COMMAND_TIMEOUT_MS = 2_000;
const START_ATTEMPTS = 5;

/**
 * Starts a standalone `redis-server` on a free loopback port with `--save "" --appendonly no`,
 * its own temp dir, pidfile and logfile; resolves once it answers PING. Never uses 6379.
 * @throws Error when the binaries are missing or the server does not start after 5 attempts.
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisNode> {
  const { args = [], clusterEnabled = false, password, username } = options;
  if (username !== undefined && password === undefined) {
    throw new InvalidOptionError('[dc:testkit] `username` needs a `password` to authenticate with');
  }
  const credentialArgs = username === undefined ? passwordArgs(password) : [];
  return startWithRetries('redis', { clusterBus: clusterEnabled }, (port, dir) => ({
    kind: 'redis',
    port,
    dir,
    password,
    username,
    argv: [...serverArgs(port, dir), ...clusterArgs(clusterEnabled), ...credentialArgs, ...args],
  }));
}

/** @internal Picks a port and dir, starts, and retries on a bind race or early exit. */
export async function startWithRetries(
  label: string,
  ports: { clusterBus: boolean },
  makeSpec: (port: number, dir: string) => NodeSpec,
  beforeStart?: (spec: NodeSpec) => void,
): Promise<RedisNode> {
  let lastError: unknown;
  for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
    const port = await pickFreePort({ withClusterBus: ports.clusterBus });
    const dir = mkdtempSync(join(tmpdir(), `dc-${label}-${port}-`));
    trackDir(dir);
    const spec = makeSpec(port, dir);
    try {
      beforeStart?.(spec);
      return await launchNode(spec);
    } catch (error) {
      lastError = error;
      rmSync(dir, { recursive: true, force: true });
      untrackDir(dir);
      releasePort(port);
    }
  }
  throw new Error(
    `[dc:testkit] could not start ${label} after ${START_ATTEMPTS} attempts: ${describe(lastError)}`,
    {
      cause: lastError,
    },
  );
}

/** @internal The harness defaults every server gets. */
export function serverArgs(port: number, dir: string): string[] {
  return [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    '--pidfile',
    join(dir, 'redis.pid'),
    '--logfile',
    join(dir, 'redis.log'),
    '--daemonize',
    'no',
    // The 7.0 default waits 5 s before a diskless full sync; replicas must be up quickly (FAULTS B3).
    '--repl-diskless-sync-delay',
    '0',
    // Fault tests stall servers with DEBUG SLEEP and compare datasets with DEBUG DIGEST.
    '--enable-debug-command',
    'local',
  ];
}

function clusterArgs(enabled: boolean): string[] {
  return enabled ? ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'] : [];
}

function passwordArgs(password: string | undefined): string[] {
  return password === undefined ? [] : ['--requirepass', password, '--masterauth', password];
}

/** @internal Spawns the process described by `spec` and resolves a node once it answers PING. */
export async function launchNode(spec: NodeSpec): Promise<RedisNode> {
  const { redisServer } = requireRedisBinaries();
  const logFile = join(spec.dir, spec.kind === 'sentinel' ? 'sentinel.log' : 'redis.log');
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let hasExited = true;
  let state: RedisNodeState = 'killed';
  let stopping: Promise<void> | undefined;
  let stderr = '';

  const spawnProcess = async (): Promise<void> => {
    stderr = '';
    const proc = spawn(redisServer, spec.argv, { stdio: ['ignore', 'ignore', 'pipe'], cwd: spec.dir });
    if (proc.pid === undefined) {
      await new Promise((resolve) => proc.once('error', resolve));
      throw new Error(`[dc:testkit] could not spawn ${redisServer}`);
    }
    const pid = proc.pid;
    trackPid(pid);
    child = proc;
    hasExited = false;
    exited = new Promise((resolve) => {
      proc.once('exit', () => {
        untrackPid(pid);
        if (child === proc) hasExited = true;
        resolve();
      });
    });
    proc.stderr?.on('data', (chunk: Buffer) => {
      if (stderr.length < 8_192) stderr += chunk.toString('utf8');
    });
    proc.stderr?.on('error', () => {});
    // The harness must never keep a test process alive; the exit hook kills what is left.
    proc.unref();
    (proc.stderr as { unref?: () => void } | null)?.unref?.();
    state = 'running';

    const startup = new AbortController();
    const exitedEarly = exited.then(() => {
      throw new Error(
        `[dc:testkit] ${spec.kind} on port ${spec.port} exited during startup.\n${stderr}${logTail(logFile)}`,
      );
    });
    exitedEarly.catch(() => {});
    const answering = waitFor(
      async () => (await sendCommand(['PING'], { ...target, timeoutMs: 500 })) === 'PONG',
      {
        timeoutMs: STARTUP_TIMEOUT_MS,
        intervalMs: 15,
        what: `${spec.kind} on port ${spec.port} to answer PING`,
        signal: startup.signal,
      },
    );
    // Whichever of the two loses the race settles later; neither may surface as unhandled.
    answering.catch(() => {});
    try {
      await Promise.race([exitedEarly, answering]);
    } catch (error) {
      await killProcess();
      throw error;
    } finally {
      // Stops the PING poll when the process exited first.
      startup.abort();
    }
  };

  const target = { host: '127.0.0.1', port: spec.port, password: spec.password, username: spec.username };

  const killProcess = async (): Promise<void> => {
    if (child === undefined || hasExited) return;
    try {
      process.kill(child.pid as number, 'SIGKILL');
    } catch {
      // exited on its own meanwhile
    }
    await withDeadline(exited, EXIT_TIMEOUT_MS, `pid ${child.pid} to exit after SIGKILL`);
  };

  const signal = (name: 'SIGSTOP' | 'SIGCONT') => {
    if (child === undefined || hasExited) {
      throw new Error(
        `[dc:testkit] cannot send ${name} to ${spec.kind} on port ${spec.port}: it is ${state}`,
      );
    }
    process.kill(child.pid as number, name);
  };

  await spawnProcess();

  const node: RedisNode = {
    host: '127.0.0.1',
    port: spec.port,
    dir: spec.dir,
    password: spec.password,
    username: spec.username,
    logFile,
    url:
      spec.password === undefined
        ? `redis://127.0.0.1:${spec.port}`
        : `redis://${encodeURIComponent(spec.username ?? '')}:${encodeURIComponent(spec.password)}@127.0.0.1:${spec.port}`,
    get pid() {
      return child?.pid as number;
    },
    get state() {
      return state;
    },
    async call(args, options = {}) {
      return sendCommand(args, { ...target, timeoutMs: options.timeoutMs ?? COMMAND_TIMEOUT_MS });
    },
    async pipeline(commands, options = {}) {
      return sendCommands(commands, { ...target, timeoutMs: options.timeoutMs ?? COMMAND_TIMEOUT_MS });
    },
    async command(...args) {
      return replyToText(await node.call(args));
    },
    async info(section) {
      return parseInfo(await node.command('INFO', ...(section === undefined ? [] : [section])));
    },
    async kill() {
      if (state === 'stopped') return;
      await killProcess();
      state = 'killed';
    },
    freeze() {
      signal('SIGSTOP');
      state = 'frozen';
    },
    resume() {
      signal('SIGCONT');
      state = 'running';
    },
    async restart() {
      if (state === 'stopped') {
        throw new Error(
          `[dc:testkit] ${spec.kind} on port ${spec.port} was stopped; start a new one instead`,
        );
      }
      await killProcess();
      state = 'killed';
      await spawnProcess();
    },
    stop() {
      stopping ??= (async () => {
        if (child !== undefined && !hasExited) {
          const pid = child.pid as number;
          try {
            if (state === 'frozen') process.kill(pid, 'SIGCONT');
            process.kill(pid, 'SIGTERM');
          } catch {
            // already gone
          }
          const graceful = await settlesWithin(exited, STOP_GRACE_MS);
          if (!graceful) await killProcess();
        }
        state = 'stopped';
        rmSync(spec.dir, { recursive: true, force: true });
        untrackDir(spec.dir);
        releasePort(spec.port);
      })();
      return stopping;
    },
  };
  return node;
}

/**
 * True when `promise` settles within `ms`. The timer is deliberately ref'd: with the child
 * unref'd, it is what keeps a script alive while it awaits an exit.
 */
function settlesWithin(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  return Promise.race([promise.then(() => true), timeout]).finally(() => clearTimeout(timer));
}

async function withDeadline(promise: Promise<void>, ms: number, what: string): Promise<void> {
  if (!(await settlesWithin(promise, ms))) {
    throw new Error(`[dc:testkit] timed out after ${ms} ms waiting for ${what}`);
  }
}

function logTail(file: string): string {
  if (!existsSync(file)) return '';
  const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
  return `--- last lines of ${file} ---\n${lines.slice(-15).join('\n')}`;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
