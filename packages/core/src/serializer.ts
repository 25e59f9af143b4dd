import secureJsonParse from 'secure-json-parse';
import { SerializationError } from './errors';
import { assertInteger } from './validation';

/** Turns values into text for a remote tier and back. */
export interface Serializer<V = unknown> {
  /** Identifies the codec inside stored envelopes; a mismatch on read is a miss. */
  readonly name: string;
  /** @throws SerializationError (`E_SERIALIZATION`) when the value cannot be encoded faithfully. */
  encode(value: V): string;
  /** @throws SerializationError (`E_SERIALIZATION`) for malformed, oversized, too deep or poisoned input. */
  decode(text: string): V;
}

/** Options for {@link createJsonSerializer}. */
export interface JsonSerializerOptions {
  /** Largest encoded or decoded payload in UTF-8 bytes. @default 16 MiB */
  maxBytes?: number;
  /** Deepest nesting of arrays and objects accepted on decode. @default 512 */
  maxDepth?: number;
}

/** Defaults for {@link createJsonSerializer}. */
export const DEFAULT_JSON_SERIALIZER_OPTIONS: Readonly<Required<JsonSerializerOptions>> = Object.freeze({
  maxBytes: 16 * 1024 * 1024,
  maxDepth: 512,
});

/**
 * The default codec: JSON that refuses what JSON would silently mangle (BigInt, functions,
 * symbols, Map, Set, cycles, a top-level `undefined`) and parses with `secure-json-parse`, which
 * rejects `__proto__` and `constructor.prototype` keys instead of letting them reach
 * `Object.prototype`. Dates encode as ISO strings and come back as strings.
 */
export function createJsonSerializer(options: JsonSerializerOptions = {}): Serializer {
  const { maxBytes, maxDepth } = { ...DEFAULT_JSON_SERIALIZER_OPTIONS, ...options };
  assertInteger(maxBytes, 'maxBytes', 1);
  assertInteger(maxDepth, 'maxDepth', 1);

  return {
    name: 'json',
    encode(value) {
      let text: string | undefined;
      try {
        text = JSON.stringify(value, rejectUnencodable);
      } catch (error) {
        if (error instanceof SerializationError) throw error;
        throw new SerializationError(
          `[dc:core] value cannot be encoded as JSON: ${(error as Error).message}`,
          {
            cause: error,
          },
        );
      }
      if (text === undefined) {
        throw new SerializationError(`[dc:core] value cannot be encoded as JSON: got ${typeof value}`);
      }
      assertWithinBytes(text, maxBytes, 'encoded value');
      return text;
    },
    decode(text) {
      if (typeof text !== 'string') {
        throw new SerializationError(`[dc:core] can only decode a string, got ${typeof text}`);
      }
      assertWithinBytes(text, maxBytes, 'stored payload');
      // Only a payload longer than the depth limit can exceed it; short ones skip the scan.
      if (text.length > maxDepth && jsonNestingExceeds(text, maxDepth)) {
        throw new SerializationError(`[dc:core] stored payload nests deeper than maxDepth (${maxDepth})`);
      }
      try {
        return secureJsonParse.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
      } catch (error) {
        throw new SerializationError(
          `[dc:core] stored payload is not safe JSON: ${(error as Error).message}`,
          {
            cause: error,
          },
        );
      }
    },
  };
}

/** The shared default {@link createJsonSerializer} instance. */
export const jsonSerializer: Serializer = createJsonSerializer();

function rejectUnencodable(this: unknown, key: string, value: unknown): unknown {
  const where = key === '' ? 'the value' : `key ${JSON.stringify(key)}`;
  switch (typeof value) {
    case 'bigint':
      throw new SerializationError(
        `[dc:core] ${where} is a BigInt, which JSON cannot encode; convert it to a string`,
      );
    case 'function':
      throw new SerializationError(`[dc:core] ${where} is a function, which cannot be cached`);
    case 'symbol':
      throw new SerializationError(`[dc:core] ${where} is a symbol, which cannot be cached`);
    case 'object':
      if (value instanceof Map || value instanceof Set) {
        throw new SerializationError(
          `[dc:core] ${where} is a ${value instanceof Map ? 'Map' : 'Set'}, which JSON would turn into {}; convert it to an array`,
        );
      }
      return value;
    default:
      return value;
  }
}

function assertWithinBytes(text: string, maxBytes: number, what: string): void {
  // A UTF-16 code unit is at most 3 UTF-8 bytes, so only long strings need the exact count.
  if (text.length * 3 <= maxBytes) return;
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > maxBytes) {
    throw new SerializationError(`[dc:core] ${what} is ${bytes} bytes, over maxBytes (${maxBytes})`);
  }
}

/** Scans brackets outside string literals; true as soon as nesting passes `limit`. */
function jsonNestingExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}
