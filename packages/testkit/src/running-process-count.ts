import { trackedPidCount } from './internal/process-registry';

/**
 * Number of `redis-server` pids this module started whose exit it has not seen yet. Assert it is
 * 0 in `afterAll` to prove a suite left no process behind.
 */
export function runningProcessCount(): number {
  return trackedPidCount();
}
