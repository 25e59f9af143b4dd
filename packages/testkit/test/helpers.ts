import { readFileSync } from 'node:fs';
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

/** First port of the kernel's ephemeral range (Linux), or 65536 where it cannot be read. */
export function ephemeralPortMin(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
  } catch {
    return 65_536;
  }
}
