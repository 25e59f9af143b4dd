import { pickFreePort } from './internal/ports';

/**
 * A free loopback port from the harness's range (never 6379), for servers a test starts itself,
 * such as a `--tls-port` next to a node's plain port. The port is reserved within this process;
 * another process can still take it before you bind it.
 */
export function getFreePort(): Promise<number> {
  return pickFreePort();
}
