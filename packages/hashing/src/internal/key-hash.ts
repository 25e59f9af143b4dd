import { invalidKey } from './errors';
import { DIGEST, md5Bytes, md5String } from './md5';

/** Ketama's key hash: the first four bytes of MD5(key) read little-endian, as an unsigned int. */
export function ketamaKeyHash(key: string | Uint8Array, inputName: string): number {
  if (typeof key === 'string') md5String(key);
  else if (key instanceof Uint8Array) md5Bytes(key);
  else throw invalidKey(inputName, key);
  return (DIGEST[0] as number) >>> 0;
}
