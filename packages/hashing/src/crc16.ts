import { crc16OfBytes, crc16OfString } from './internal/crc16-core';
import { invalidKey } from './internal/errors';

/**
 * CRC16-CCITT (XMODEM: poly 0x1021, init 0), the checksum Redis Cluster uses for key slots.
 * Strings are hashed as their UTF-8 bytes (lone surrogates as U+FFFD, as `Buffer.from` does),
 * without allocating a buffer.
 *
 * @param data a string (hashed as UTF-8) or raw bytes (a `Buffer` is a `Uint8Array`)
 * @returns the 16-bit checksum, 0..65535 (`crc16('123456789') === 0x31c3`)
 * @throws InvalidKeyError (`E_INVALID_KEY`) when `data` is neither a string nor a `Uint8Array`
 */
export function crc16(data: string | Uint8Array): number {
  if (typeof data === 'string') return crc16OfString(data, 0, data.length);
  if (data instanceof Uint8Array) return crc16OfBytes(data, 0, data.length);
  throw invalidKey('data', data);
}
