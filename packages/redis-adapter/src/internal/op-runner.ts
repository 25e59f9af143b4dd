import { CacheUnavailableError, type Clock, ClosedError, type TimerHandle } from '@dc/core';
import type { CircuitBreaker } from '../circuit-breaker';

/** Reads fall back at the soft timeout in fail-open mode; writes always wait for the hard one. */
export type OpKind = 'read' | 'write';

/** What the runner reports (`node`: the name of the op's breaker); the store turns these into events and counters. */
export interface OpRunnerHooks {
  onError(op: string, error: unknown, node: string | undefined): void;
  onTimeout(op: string, stage: 'soft' | 'hard', elapsedMs: number, node: string | undefined): void;
  onShortCircuit(op: string, node: string | undefined): void;
}

interface PendingOp {
  readonly op: string;
  readonly kind: OpKind;
  readonly startedAt: number;
  readonly softAt: number;
  readonly hardAt: number;
  /** The breaker of the node the op went to. */
  readonly breaker: CircuitBreaker;
  // Released (see `release`) once settled: the FIFO can hold a settled op until the next tick,
  // and must not keep its promise and result (a 100-entry batch) alive that long.
  fallback: unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  /** Applied to the value (or the fail-open fallback), `arg` and `startedAt` before the op's promise resolves. */
  map: Mapper | undefined;
  /** The argument `exec` and `map` were given (a read's key), so reads need no closure per op. */
  arg: unknown;
  settled: boolean;
  /** A soft-timeout already counted this op as a failure for the breaker. */
  counted: boolean;
}

/** Settles every op by its deadlines, feeds the breaker, and applies fail-open / fail-closed. */
export interface OpRunner {
  /** `breaker`: the op's node's breaker (default: the runner's). */
  run<T>(
    op: string,
    kind: OpKind,
    fallback: T,
    exec: () => Promise<T>,
    extraMs?: number,
    breaker?: CircuitBreaker,
  ): Promise<T>;
  /**
   * A read (fallback `null`): `exec(arg)` fetches, and its result (or the fallback) goes through
   * `map(value, arg, startedAt)` before the promise resolves; `startedAt` (clock time the command
   * was sent) is the read's point in time, e.g. for expiry checks, so it needs no clock read.
   * One promise per op instead of two for `run(…).then(map)`, and no closure per op when `exec`
   * and `map` are long-lived.
   */
  read<A, T, R>(
    op: string,
    arg: A,
    exec: (arg: A) => Promise<T | null>,
    map: (value: T | null, arg: A, startedAt: number) => R,
    breaker?: CircuitBreaker,
  ): Promise<R>;
  /** Settles everything still pending (fail-open: fallback; fail-closed: `E_CLOSED`). */
  close(): void;
}

const NOOP = (): void => {};

type Mapper = (value: unknown, arg: unknown, startedAt: number) => unknown;

/** Timers fire no more often than this while ops are pending (ms). */
const TICK_MIN_MS = 2;

/**
 * One timer for all pending ops instead of one per op: ops sit in a FIFO in start order, and
 * because every op's soft and hard deadlines are the same offsets from its start, the FIFO is
 * also sorted by deadline. Settled ops are skipped lazily when a cursor reaches them.
 */
export function createOpRunner(config: {
  failOpen: boolean;
  softTimeoutMs: number;
  hardTimeoutMs: number;
  clock: Clock;
  /** Used by ops that name no breaker of their own (then every op must name one). */
  breaker?: CircuitBreaker;
  hooks: OpRunnerHooks;
  scope: string;
}): OpRunner {
  const { failOpen, softTimeoutMs, hardTimeoutMs, clock, hooks, scope } = config;
  const defaultBreaker = config.breaker;
  // Pending ops live in queue[head, tail). Slots past `tail` are reused instead of truncating
  // the array (a runtime call per op when ops are answered one at a time); what they still
  // reference was released.
  let queue: PendingOp[] = [];
  let tail = 0;
  let head = 0;
  let softCursor = 0;
  let timer: TimerHandle | undefined;
  let timerDue = Number.POSITIVE_INFINITY;
  let closed = false;

  // One executor for every op's promise (instead of a closure per op); it runs synchronously
  // inside `new Promise`, so the captured functions belong to the promise just created.
  let capturedResolve: (value: unknown) => void = NOOP;
  let capturedReject: (error: unknown) => void = NOOP;
  const capture = (resolve: (value: unknown) => void, reject: (error: unknown) => void) => {
    capturedResolve = resolve;
    capturedReject = reject;
  };

  const release = (p: PendingOp) => {
    p.settled = true;
    p.fallback = undefined;
    p.resolve = NOOP;
    p.reject = NOOP;
    p.map = undefined;
    p.arg = undefined;
  };

  // Settles `p` with `value` passed through its map; a throwing map rejects.
  const settleWith = (
    resolve: (value: unknown) => void,
    reject: (error: unknown) => void,
    map: Mapper | undefined,
    arg: unknown,
    value: unknown,
    startedAt: number,
  ) => {
    if (map === undefined) {
      resolve(value);
      return;
    }
    try {
      resolve(map(value, arg, startedAt));
    } catch (error) {
      reject(error);
    }
  };

  const fail = (p: PendingOp, error: Error) => {
    const { resolve, reject, fallback, map, arg, startedAt } = p;
    release(p);
    if (failOpen) settleWith(resolve, reject, map, arg, fallback, startedAt);
    else reject(error);
  };

  // Drops settled ops from the head of the FIFO at once; in the common case (ops answered in
  // order) the queue stays short and nothing settled outlives its op.
  const trimHead = () => {
    while (head < tail && (queue[head] as PendingOp).settled) head++;
    if (head === tail) {
      tail = 0;
      head = 0;
      softCursor = 0;
    }
  };

  const tick = () => {
    timer = undefined;
    timerDue = Number.POSITIVE_INFINITY;
    const now = clock.now();
    if (softCursor < head) softCursor = head;
    while (softCursor < tail) {
      const p = queue[softCursor] as PendingOp;
      if (p.settled) {
        softCursor++;
        continue;
      }
      if (p.softAt > now) break;
      softCursor++;
      hooks.onTimeout(p.op, 'soft', now - p.startedAt, p.breaker.name);
      p.counted = true;
      p.breaker.onFailure();
      if (failOpen && p.kind === 'read') fail(p, new Error('soft timeout'));
    }
    while (head < tail) {
      const p = queue[head] as PendingOp;
      if (p.settled) {
        head++;
        continue;
      }
      if (p.hardAt > now) break;
      head++;
      hooks.onTimeout(p.op, 'hard', now - p.startedAt, p.breaker.name);
      if (!p.counted) p.breaker.onFailure();
      fail(
        p,
        new CacheUnavailableError(
          `[dc:${scope}] ${p.op} got no answer within ${p.hardAt - p.startedAt} ms (hardTimeoutMs); Redis is down, frozen or overloaded`,
        ),
      );
    }
    if (head === tail) {
      queue = [];
      tail = 0;
      head = 0;
      softCursor = 0;
    } else if (head > 1024 && head * 2 > tail) {
      queue = queue.slice(head, tail);
      tail -= head;
      softCursor -= head;
      head = 0;
    }
    schedule();
  };

  const schedule = () => {
    let due = Number.POSITIVE_INFINITY;
    for (let i = Math.max(softCursor, head); i < tail; i++) {
      const p = queue[i] as PendingOp;
      if (!p.settled) {
        due = p.softAt;
        break;
      }
    }
    for (let i = head; i < tail; i++) {
      const p = queue[i] as PendingOp;
      if (!p.settled) {
        if (p.hardAt < due) due = p.hardAt;
        break;
      }
    }
    if (due === Number.POSITIVE_INFINITY || due >= timerDue) return;
    timer?.cancel();
    timerDue = due;
    timer = clock.setTimer(tick, Math.max(TICK_MIN_MS, due - clock.now()));
  };

  const start = (
    op: string,
    kind: OpKind,
    fallback: unknown,
    exec: (arg: unknown) => Promise<unknown>,
    extraMs: number,
    map: Mapper | undefined,
    arg: unknown,
    breaker: CircuitBreaker,
  ): Promise<unknown> => {
    if (closed) return Promise.reject(new ClosedError(`[dc:${scope}] store is closed`));
    if (!breaker.tryAcquire()) {
      hooks.onShortCircuit(op, breaker.name);
      if (failOpen) {
        try {
          return Promise.resolve(map === undefined ? fallback : map(fallback, arg, clock.now()));
        } catch (error) {
          return Promise.reject(error);
        }
      }
      return Promise.reject(
        new CacheUnavailableError(
          `[dc:${scope}] ${op} refused: the circuit breaker${breaker.name === undefined ? '' : ` of ${breaker.name}`} is open after repeated Redis failures`,
        ),
      );
    }
    let started: Promise<unknown>;
    try {
      started = exec(arg);
    } catch (error) {
      started = Promise.reject(error);
    }
    const promise = new Promise<unknown>(capture);
    const resolve = capturedResolve;
    const reject = capturedReject;
    const now = clock.now();
    const p: PendingOp = {
      op,
      kind,
      startedAt: now,
      softAt: now + softTimeoutMs + extraMs,
      hardAt: now + hardTimeoutMs + extraMs,
      breaker,
      fallback,
      resolve,
      reject,
      map,
      arg,
      settled: false,
      counted: false,
    };
    queue[tail++] = p;
    if (p.softAt < timerDue) schedule();
    started.then(
      (value) => {
        breaker.onSuccess();
        if (p.settled) return;
        release(p);
        trimHead();
        settleWith(resolve, reject, map, arg, value, now);
      },
      (error: unknown) => {
        if (p.settled) return;
        if (!p.counted) breaker.onFailure();
        hooks.onError(op, error, breaker.name);
        if (failOpen) {
          release(p);
          trimHead();
          settleWith(resolve, reject, map, arg, fallback, now);
          return;
        }
        fail(
          p,
          new CacheUnavailableError(
            `[dc:${scope}] ${op} failed: ${(error as Error)?.message ?? String(error)}`,
            { cause: error },
          ),
        );
        trimHead();
      },
    );
    return promise;
  };

  return {
    run<T>(
      op: string,
      kind: OpKind,
      fallback: T,
      exec: () => Promise<T>,
      extraMs = 0,
      breaker?: CircuitBreaker,
    ): Promise<T> {
      const guard = (breaker ?? defaultBreaker) as CircuitBreaker;
      return start(op, kind, fallback, exec, extraMs, undefined, undefined, guard) as Promise<T>;
    },
    read<A, T, R>(
      op: string,
      arg: A,
      exec: (arg: A) => Promise<T | null>,
      map: (value: T | null, arg: A, startedAt: number) => R,
      breaker?: CircuitBreaker,
    ): Promise<R> {
      return start(
        op,
        'read',
        null,
        exec as (arg: unknown) => Promise<unknown>,
        0,
        map as Mapper,
        arg,
        (breaker ?? defaultBreaker) as CircuitBreaker,
      ) as Promise<R>;
    },
    close() {
      closed = true;
      timer?.cancel();
      timer = undefined;
      for (let i = head; i < tail; i++) {
        const p = queue[i] as PendingOp;
        if (!p.settled) fail(p, new ClosedError(`[dc:${scope}] store closed while ${p.op} was in flight`));
      }
      queue = [];
      tail = 0;
      head = 0;
      softCursor = 0;
    },
  };
}
