/**
 * CRC16-CCITT in its XMODEM form (poly 0x1021, init 0, no reflection, no final xor), the
 * checksum Redis Cluster uses for key slots (`src/crc16.c`). Strings are hashed as their UTF-8
 * bytes, encoded on the fly from char codes so no buffer is allocated: a surrogate pair becomes
 * its 4-byte sequence and a lone surrogate becomes U+FFFD (`EF BF BD`), exactly as
 * `TextEncoder` and `Buffer.from(string)` encode it.
 */

const TABLE = /* @__PURE__ */ buildTable();

// Int32Array rather than Uint16Array: measured faster element loads in the hot loop.
function buildTable(): Int32Array {
  const table = new Int32Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
    table[byte] = crc & 0xffff;
  }
  return table;
}

/** CRC16 of `bytes[start..end)`. */
export function crc16OfBytes(bytes: Uint8Array, start: number, end: number): number {
  const table = TABLE;
  let crc = 0;
  for (let i = start; i < end; i++) {
    crc = ((crc << 8) & 0xffff) ^ (table[((crc >>> 8) ^ (bytes[i] as number)) & 0xff] as number);
  }
  return crc;
}

/** CRC16 of the UTF-8 encoding of `str[start..end)` (UTF-16 indices). */
export function crc16OfString(str: string, start: number, end: number): number {
  const table = TABLE;
  let crc = 0;
  let i = start;
  // Most keys are ASCII: a tight loop for them, leaving at the first non-ASCII char.
  for (; i < end; i++) {
    const c = str.charCodeAt(i);
    if (c >= 0x80) return crc16OfStringFrom(str, i, end, crc);
    crc = ((crc << 8) & 0xffff) ^ (table[((crc >>> 8) ^ c) & 0xff] as number);
  }
  return crc;
}

function crc16OfStringFrom(str: string, start: number, end: number, initial: number): number {
  const table = TABLE;
  let crc = initial;
  for (let i = start; i < end; i++) {
    let c = str.charCodeAt(i);
    if (c < 0x80) {
      crc = ((crc << 8) & 0xffff) ^ (table[((crc >>> 8) ^ c) & 0xff] as number);
      continue;
    }
    if (c < 0x800) {
      crc = ((crc << 8) & 0xffff) ^ (table[((crc >>> 8) ^ (0xc0 | (c >>> 6))) & 0xff] as number);
      crc = ((crc << 8) & 0xffff) ^ (table[((crc >>> 8) ^ (0x80 | (c & 0x3f))) & 0xff] as number);
      continue;
    }
    if ((c & 0xf800) === 0xd800) {
      const next = i + 1 < end ? str.charCodeAt(i + 1) : 0;
      if (c < 0xdc00 && (next & 0xfc00) === 0xdc00) {
        i++;
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        crc = ((crc << 8) & 0xffff) ^ (table[((crc >>> 8) ^ (0xf0 | (c >>> 18))) & 0xff] as number);
        crc = ((crc << 8) & 0xffff) ^ (table[((crc >>> 8) ^ (0x80 | ((c >>> 12) & 0x3f))) & 0xff] as number);
        crc = ((crc << 8) & 0xffff) ^ (table[((crc >>> 8) ^ (0x80 | ((c >>> 6) & 0x3f))) & 0xff] as number);
        crc = ((crc << 8) & 0xffff) ^ (table[((crc >>> 8) ^ (0x80 | (c & 0x3f))) & 0xff] as number);
        continue;
      }
      // A lone surrogate is not encodable; TextEncoder and Buffer both emit U+FFFD instead.
      c = 0xfffd;
    }
    crc = ((crc << 8) & 0xffff) ^ (table[((crc >>> 8) ^ (0xe0 | (c >>> 12))) & 0xff] as number);
    crc = ((crc << 8) & 0xffff) ^ (table[((crc >>> 8) ^ (0x80 | ((c >>> 6) & 0x3f))) & 0xff] as number);
    crc = ((crc << 8) & 0xffff) ^ (table[((crc >>> 8) ^ (0x80 | (c & 0x3f))) & 0xff] as number);
  }
  return crc;
}
