/**
 * The stored envelope: one Redis string per entry. Version 2 (written) is a one-line header
 * followed by the encoded value:
 *
 * ```text
 * dc2|"json"|1700000060000|1700000050000|12|["t"]
 * {"id":1,…}
 * ```
 *
 * i.e. `dc2|<codec name as JSON>|<expiresAt>|<staleAt>|<deltaMs or empty>|<tags as JSON or empty>`,
 * `\n`, then the value: the JSON codec's text as is, any other codec's text as a JSON string.
 * Reads check the header with one `startsWith` and parse only the value as JSON (with the codec's
 * depth, size and prototype-poisoning checks), instead of parsing a JSON object around it.
 * Version 1 (`{"v":1,"codec":"json","expiresAt":…,"staleAt":…,"deltaMs"?,"tags"?,"value":…}`) is
 * still read, so entries written before the upgrade stay hits.
 *
 * A raw U+FFFD is escaped as `\\ufffd` on write (it can only occur inside JSON strings), so reads
 * can take the payload as a string and still tell an invalid UTF-8 sequence (decoded to U+FFFD)
 * from real text. Anything that does not decode to a well-formed envelope of a known version and
 * this codec is a {@link SerializationError}: the store turns it into a miss and deletes the key.
 */
import { isUtf8 } from 'node:buffer';
import { type CacheEntry, jsonSerializer, SerializationError, type Serializer } from '@dc/core';

const REPLACEMENT_CHAR = '\uFFFD';
const PIPE = 0x7c;
const NEWLINE = 0x0a;

/** Version of the stored envelope layout written; version 1 is still read. */
export const ENVELOPE_VERSION = 2;

/** Encodes entries into envelopes and back. */
export interface EnvelopeCodec<V = unknown> {
  /** The value serializer's name, stored as `codec`. */
  readonly name: string;
  /** @throws SerializationError when the value cannot be encoded. */
  encode(entry: CacheEntry<V>): string;
  /**
   * Decodes a stored payload (raw bytes or text).
   * @throws SerializationError for invalid UTF-8, malformed or poisoned JSON, an unknown version,
   * another codec, or fields that do not form a valid entry.
   */
  decode(payload: Buffer | string): CacheEntry<V>;
}

type MutableEntry<V> = { -readonly [K in keyof CacheEntry<V>]: CacheEntry<V>[K] };

/** Builds the envelope codec around a value {@link Serializer}. */
export function createEnvelopeCodec<V = unknown>(serializer: Serializer<V>): EnvelopeCodec<V> {
  const name = serializer.name;
  const embedsJson = name === 'json';
  const escapeReplacementChar = (text: string) =>
    text.includes(REPLACEMENT_CHAR) ? text.replaceAll(REPLACEMENT_CHAR, '\\ufffd') : text;
  const prefix = escapeReplacementChar(`dc${ENVELOPE_VERSION}|${JSON.stringify(name)}|`);
  const prefixLength = prefix.length;
  // A non-JSON codec's text (a JSON string) and the tags are parsed with the safe JSON codec,
  // whose size limit must not be the thing that rejects a value the codec itself accepts.
  const envelopeParser = embedsJson ? (serializer as Serializer<unknown>) : jsonSerializer;
  // Core's default JSON codec skips its own scans where they cannot matter (a text with too few
  // brackets to nest past its limit, or without the letters of a prototype key), so values of
  // any size cost little more than JSON.parse.
  const parseJson = (text: string): unknown => envelopeParser.decode(text);

  const decodeValue = (text: string): V => {
    if (embedsJson) return parseJson(text) as V;
    const inner = parseJson(text);
    if (typeof inner !== 'string') {
      throw new SerializationError('[dc:redis] stored envelope value is not a string');
    }
    return serializer.decode(inner);
  };

  /** Decodes the header fields after the prefix; `text` is known to start with the prefix. */
  const decodeV2 = (text: string): CacheEntry<V> => {
    // Fast path: expiresAt and staleAt as plain digits (what `encode` writes for integer
    // times), summed in place: exact below 2^53 and no substrings. Anything else is re-read by
    // the general field parser below. `charCodeAt` past the end is NaN, which fails the digit
    // test too, so the loops need no length check.
    let i = prefixLength;
    let expiresAt = 0;
    let staleAt = 0;
    let digit = text.charCodeAt(i) - 0x30;
    while (digit >= 0 && digit <= 9) {
      expiresAt = expiresAt * 10 + digit;
      digit = text.charCodeAt(++i) - 0x30;
    }
    let ok = i > prefixLength && i - prefixLength <= 15 && digit === PIPE - 0x30;
    const staleStart = ++i;
    if (ok) {
      digit = text.charCodeAt(i) - 0x30;
      while (digit >= 0 && digit <= 9) {
        staleAt = staleAt * 10 + digit;
        digit = text.charCodeAt(++i) - 0x30;
      }
      ok = i > staleStart && i - staleStart <= 15 && digit === PIPE - 0x30;
      // What `encode` writes without deltaMs and tags: `||\n`, then the value.
      if (ok && text.charCodeAt(i + 1) === PIPE && text.charCodeAt(i + 2) === NEWLINE) {
        if (staleAt > expiresAt) {
          throw new SerializationError('[dc:redis] stored envelope has invalid fields');
        }
        return { value: decodeValue(text.slice(i + 3)), expiresAt, staleAt };
      }
    }
    if (!ok) {
      const fields = readNumberFields(text, prefix.length);
      expiresAt = fields.expiresAt;
      staleAt = fields.staleAt;
      i = fields.staleEnd;
    }
    // i is at the `|` after staleAt; deltaMs (often empty) follows.
    const deltaStart = i + 1;
    let deltaMs: number | undefined;
    let tagsStart = deltaStart + 1;
    if (text.charCodeAt(deltaStart) !== PIPE) {
      const deltaEnd = text.indexOf('|', deltaStart);
      deltaMs = numberAt(text, deltaStart, deltaEnd);
      tagsStart = deltaEnd + 1;
    }
    const end = text.indexOf('\n', tagsStart);
    if (end === -1) throw new SerializationError('[dc:redis] stored envelope header is malformed');
    let tags: unknown;
    if (tagsStart !== end) {
      tags = parseJson(text.slice(tagsStart, end));
      if (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string')) {
        throw new SerializationError('[dc:redis] stored envelope tags are not strings');
      }
    }
    if (staleAt > expiresAt || (deltaMs !== undefined && !(deltaMs >= 0))) {
      throw new SerializationError('[dc:redis] stored envelope has invalid fields');
    }
    const entry: MutableEntry<V> = { value: decodeValue(text.slice(end + 1)), expiresAt, staleAt };
    if (deltaMs !== undefined) entry.deltaMs = deltaMs;
    if (tags !== undefined) entry.tags = tags as string[];
    return entry;
  };

  const decodeV1 = (text: string): CacheEntry<V> => {
    const raw = parseJson(text) as Record<string, unknown> | null;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw new SerializationError('[dc:redis] stored payload is not a @dc envelope');
    }
    if (raw.v !== 1) {
      throw new SerializationError(`[dc:redis] stored envelope version ${String(raw.v)} is not 1 or 2`);
    }
    if (raw.codec !== name) {
      throw new SerializationError(
        `[dc:redis] stored envelope codec ${JSON.stringify(raw.codec)} is not ${JSON.stringify(name)}`,
      );
    }
    const { expiresAt, staleAt, deltaMs, tags } = raw;
    if (
      typeof expiresAt !== 'number' ||
      typeof staleAt !== 'number' ||
      !Number.isFinite(expiresAt) ||
      !Number.isFinite(staleAt) ||
      staleAt > expiresAt ||
      (deltaMs !== undefined && (typeof deltaMs !== 'number' || !(deltaMs >= 0))) ||
      (tags !== undefined && (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string'))) ||
      !Object.hasOwn(raw, 'value')
    ) {
      throw new SerializationError('[dc:redis] stored envelope has invalid fields');
    }
    let value: V;
    if (embedsJson) value = raw.value as V;
    else if (typeof raw.value === 'string') value = serializer.decode(raw.value);
    else throw new SerializationError('[dc:redis] stored envelope value is not a string');
    const entry: MutableEntry<V> = { value, expiresAt, staleAt };
    if (deltaMs !== undefined) entry.deltaMs = deltaMs as number;
    if (tags !== undefined) entry.tags = tags as string[];
    return entry;
  };

  return {
    name,
    encode(entry) {
      const text = serializer.encode(entry.value);
      const deltaMs = entry.deltaMs === undefined ? '' : entry.deltaMs;
      const tags = entry.tags === undefined ? '' : JSON.stringify(entry.tags);
      const value = embedsJson ? text : JSON.stringify(text);
      // A stored payload never holds a raw U+FFFD (it is escaped), so a U+FFFD found on read can
      // only be a byte sequence that was not valid UTF-8, replaced by the decoder.
      return `${prefix}${entry.expiresAt}|${entry.staleAt}|${deltaMs}|${escapeReplacementChar(tags)}\n${escapeReplacementChar(value)}`;
    },
    decode(payload) {
      let text: string;
      if (typeof payload === 'string') {
        if (payload.includes(REPLACEMENT_CHAR)) {
          throw new SerializationError('[dc:redis] stored payload is not valid UTF-8 (it decoded to U+FFFD)');
        }
        text = payload;
      } else {
        if (!isUtf8(payload)) throw new SerializationError('[dc:redis] stored payload is not valid UTF-8');
        text = payload.toString('utf8');
      }
      // A slice of the prefix's length compared with it: a short copy and one compare, several
      // times cheaper than `startsWith` here.
      if (text.slice(0, prefixLength) === prefix) return decodeV2(text);
      // Entries written before version 2 (and JSON of any other shape, rejected with its reason).
      if (text.charCodeAt(0) === 0x7b) return decodeV1(text);
      throw new SerializationError(
        `[dc:redis] stored payload is not a @dc envelope of codec ${JSON.stringify(name)}`,
      );
    },
  };
}

/** The number in `text[start, end)`; an empty, non-numeric or multi-line field is a SerializationError. */
function numberAt(text: string, start: number, end: number): number {
  const field = end === -1 || end <= start ? '' : text.slice(start, end);
  const value = field === '' || field.includes('\n') ? Number.NaN : Number(field);
  if (!Number.isFinite(value)) {
    throw new SerializationError('[dc:redis] stored envelope header holds a non-numeric field');
  }
  return value;
}

/** The general reader of `expiresAt|staleAt|` at `start` (fractions, signs, exponents). */
function readNumberFields(
  text: string,
  start: number,
): { expiresAt: number; staleAt: number; staleEnd: number } {
  const expiresEnd = text.indexOf('|', start);
  const expiresAt = numberAt(text, start, expiresEnd);
  const staleEnd = text.indexOf('|', expiresEnd + 1);
  return { expiresAt, staleAt: numberAt(text, expiresEnd + 1, staleEnd), staleEnd };
}
