import { describe, InvalidOptionError } from './errors';

/** memcached's default port; libmemcached and twemproxy leave it out of point keys. */
export const MEMCACHED_DEFAULT_PORT = 11211;

/** A parsed `host:port` (IPv6 hosts may be given as `[::1]:11211`). */
export interface ParsedAddress {
  readonly host: string;
  readonly port: number;
}

/**
 * Parses `host:port`, `host` (port 11211) or `[v6]:port`. An unbracketed address with several
 * colons is taken as a bare IPv6 host on the default port.
 */
export function parseServerAddress(address: string, inputName: string): ParsedAddress {
  if (address.length === 0 || address.trim() !== address) {
    throw new InvalidOptionError(
      `[dc:hashing] \`${inputName}\` must be a non-empty "host:port" without spaces, got ${describe(address)}`,
    );
  }
  let host: string;
  let portText: string | undefined;
  if (address.startsWith('[')) {
    const close = address.indexOf(']');
    host = address.slice(1, close);
    const rest = address.slice(close + 1);
    if (close < 2 || (rest !== '' && !rest.startsWith(':'))) {
      throw new InvalidOptionError(
        `[dc:hashing] \`${inputName}\` must look like "[ipv6]:port", got ${describe(address)}`,
      );
    }
    portText = rest === '' ? undefined : rest.slice(1);
  } else {
    const colon = address.lastIndexOf(':');
    if (colon === -1 || address.indexOf(':') !== colon) {
      host = address;
      portText = undefined;
    } else {
      host = address.slice(0, colon);
      portText = address.slice(colon + 1);
    }
  }
  if (host.length === 0) {
    throw new InvalidOptionError(`[dc:hashing] \`${inputName}\` has an empty host: ${describe(address)}`);
  }
  if (portText === undefined) return { host, port: MEMCACHED_DEFAULT_PORT };
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : Number.NaN;
  if (!(port >= 1 && port <= 65535)) {
    throw new InvalidOptionError(
      `[dc:hashing] \`${inputName}\` must end in a port 1..65535, got ${describe(address)}`,
    );
  }
  return { host, port };
}
