/**
 * The stored envelope: one Redis string per entry,
 *
 * ```json
 * {"v":1,"codec":"json","expiresAt":1700000060000,"staleAt":1700000050000,"deltaMs":12,"tags":["t"],"value":…}
 * ```
 *
 * `v` is {@link ENVELOPE_VERSION} and `codec` the serializer's `name`. With the JSON codec the
 * encoded value is embedded as JSON (so the whole payload is parsed once, with the codec's depth,
 * size and prototype-poisoning checks); any other codec's text is embedded as a JSON string.
 * A raw U+FFFD is escaped as `\\ufffd` on write, so reads can take the payload as a string and
 * still tell an invalid UTF-8 sequence (decoded to U+FFFD) from real text.
 * Anything that does not decode to a well-formed envelope of this version and codec is a
 * {@link SerializationError}: the store turns it into a miss and deletes the key.
 */
import { isUtf8 } from 'node:buffer';
import { type CacheEntry, jsonSerializer, SerializationError, type Serializer } from '@dc/core';

const REPLACEMENT_CHAR = '\uFFFD';

/** Version of the stored envelope layout; a stored entry with another version is a miss. */
export const ENVELOPE_VERSION = 1;

/** Encodes entries into envelopes and back. */
export interface EnvelopeCodec<V = unknown> {
  /** The value serializer's name, stored as `codec`. */
  readonly name: string;
  /** @throws SerializationError when the value cannot be encoded. */
  encode(entry: CacheEntry<V>): string;
  /**
   * Decodes a stored payload (raw bytes or text).
   * @throws SerializationError for invalid UTF-8, malformed or poisoned JSON, a wrong version or
   * codec, or fields that do not form a valid entry.
   */
  decode(payload: Buffer | string): CacheEntry<V>;
}

/** Builds the envelope codec around a value {@link Serializer}. */
export function createEnvelopeCodec<V = unknown>(serializer: Serializer<V>): EnvelopeCodec<V> {
  const name = serializer.name;
  const embedsJson = name === 'json';
  const header = `{"v":${ENVELOPE_VERSION},"codec":${JSON.stringify(name)},"expiresAt":`;
  // The envelope around a non-JSON codec is parsed with the safe JSON codec, whose size limit must
  // not be the thing that rejects a value the codec itself accepts.
  const envelopeParser = embedsJson ? (serializer as Serializer<unknown>) : jsonSerializer;
  // With core's default JSON codec, a short payload without `__proto__`, `constructor` or `\u`
  // escapes cannot trip any of its checks (size, depth <= length, prototype keys), so plain
  // JSON.parse gives the same result without the codec's regex scans.
  const fastPath = envelopeParser === jsonSerializer;

  return {
    name,
    encode(entry) {
      const text = serializer.encode(entry.value);
      let out = `${header}${entry.expiresAt},"staleAt":${entry.staleAt}`;
      if (entry.deltaMs !== undefined) out += `,"deltaMs":${entry.deltaMs}`;
      if (entry.tags !== undefined) out += `,"tags":${JSON.stringify(entry.tags)}`;
      out = `${out},"value":${embedsJson ? text : JSON.stringify(text)}}`;
      // A stored payload never holds a raw U+FFFD (it is escaped), so a U+FFFD found on read can
      // only be a byte sequence that was not valid UTF-8, replaced by the decoder.
      return out.includes(REPLACEMENT_CHAR) ? out.replaceAll(REPLACEMENT_CHAR, '\\ufffd') : out;
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
      if (text.charCodeAt(0) !== 0x7b) {
        throw new SerializationError('[dc:redis] stored payload is not a @dc envelope');
      }
      const raw = (
        fastPath && isPlainShortJson(text) ? parseOrThrow(text) : envelopeParser.decode(text)
      ) as Record<string, unknown> | null;
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
        throw new SerializationError('[dc:redis] stored payload is not a @dc envelope');
      }
      if (raw.v !== ENVELOPE_VERSION) {
        throw new SerializationError(
          `[dc:redis] stored envelope version ${String(raw.v)} is not ${ENVELOPE_VERSION}`,
        );
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
      const entry: { -readonly [K in keyof CacheEntry<V>]: CacheEntry<V>[K] } = { value, expiresAt, staleAt };
      if (deltaMs !== undefined) entry.deltaMs = deltaMs as number;
      if (tags !== undefined) entry.tags = tags as string[];
      return entry;
    },
  };
}

/** Longest payload the fast path takes: below core's default `maxDepth`, so depth cannot exceed it. */
const FAST_PATH_MAX_LENGTH = 512;

function isPlainShortJson(text: string): boolean {
  return (
    text.length <= FAST_PATH_MAX_LENGTH &&
    !text.includes('__proto__') &&
    !text.includes('constructor') &&
    !text.includes('\\u')
  );
}

function parseOrThrow(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new SerializationError(`[dc:redis] stored payload is not JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
