import { rmSync } from 'node:fs';

/**
 * Every redis-server this module started and has not yet seen exit, so a crashing test file
 * does not leave servers behind: on process exit (and on SIGINT/SIGTERM/SIGHUP) they are
 * SIGKILLed by pid and their temp dirs removed.
 */
const livePids = new Set<number>();
const tempDirs = new Set<string>();
let installed = false;

/** True once the exit and signal hooks are registered (on the first tracked pid or dir). */
export function safetyNetInstalled(): boolean {
  return installed && process.listeners('exit').includes(killEverything);
}

export function trackPid(pid: number): void {
  installSafetyNet();
  livePids.add(pid);
}

export function untrackPid(pid: number): void {
  livePids.delete(pid);
}

export function trackDir(dir: string): void {
  installSafetyNet();
  tempDirs.add(dir);
}

export function untrackDir(dir: string): void {
  tempDirs.delete(dir);
}

/** Pids started by this module whose exit has not been observed yet. */
export function trackedPidCount(): number {
  return livePids.size;
}

/** True while a process with `pid` exists (a zombie counts until it is reaped). */
export function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** SIGKILLs every tracked pid and removes every tracked dir; what the exit hook runs. */
export function killEverything(): void {
  for (const pid of livePids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  livePids.clear();
  for (const dir of tempDirs) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // best effort while exiting
    }
  }
  tempDirs.clear();
}

function installSafetyNet(): void {
  if (installed) return;
  installed = true;
  process.on('exit', killEverything);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      killEverything();
      // Only re-raise when nobody else handles the signal, so we never change how the host
      // process (vitest, a CLI) reacts to it.
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, onSignal);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, onSignal);
  }
}
