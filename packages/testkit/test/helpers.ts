import { expect } from 'vitest';

/** Asserts that no process with `pid` exists (signal 0 fails with ESRCH). */
export function expectPidGone(pid: number): void {
  let code: string | undefined;
  try {
    process.kill(pid, 0);
  } catch (error) {
    code = (error as NodeJS.ErrnoException).code;
  }
  expect(code, `pid ${pid} should be gone`).toBe('ESRCH');
}
