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
  /**
   * Largest encoded or decoded payload in UTF-8 bytes. The 1 MiB default (memcached's item limit)
   * keeps one encode or decode of ordinary JSON well under 50 ms of event-loop time (FAULTS X5);
   * raise it for larger values knowing that each read of one blocks the loop for longer.
   * @default 1 MiB
   */
  maxBytes?: number;
  /**
   * Deepest nesting of arrays and objects accepted on decode, and on encode (a deeper value
   * could be stored but never read back). @default 512
   */
  maxDepth?: number;
}

/** Defaults for {@link createJsonSerializer}. */
export const DEFAULT_JSON_SERIALIZER_OPTIONS: Readonly<Required<JsonSerializerOptions>> = Object.freeze({
  maxBytes: 1024 * 1024,
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
        // Native stringify first: a replacer function costs a JS call per value (2-10x slower on
        // large values, FAULTS X5); what it would catch is checked after, by one walk.
        text = JSON.stringify(value);
      } catch (error) {
        throw explainEncodeFailure(value, error);
      }
      if (text === undefined) {
        assertEncodable(value, maxDepth);
        throw new SerializationError(`[dc:core] value cannot be encoded as JSON: got ${typeof value}`);
      }
      assertWithinBytes(text, maxBytes, 'encoded value');
      assertEncodable(value, maxDepth);
      return text;
    },
    decode(text) {
      if (typeof text !== 'string') {
        throw new SerializationError(`[dc:core] can only decode a string, got ${typeof text}`);
      }
      assertWithinBytes(text, maxBytes, 'stored payload');
      // Valid JSON nested past the limit has more than `maxDepth` opening brackets and as many
      // closing ones, so only a longer text can be one (a shorter malformed one fails the parse).
      // Native searches count the brackets far faster than the exact scan reads every character
      // (a 950-character record: ~0.2 µs to count, ~1.8 to scan, ~3.6 for JSON.parse).
      if (
        text.length > 2 * maxDepth + 1 &&
        openingBracketsExceed(text, maxDepth) &&
        jsonNestingExceeds(text, maxDepth)
      ) {
        throw new SerializationError(`[dc:core] stored payload nests deeper than maxDepth (${maxDepth})`);
      }
      try {
        return cannotHoldPrototypeKeys(text)
          ? JSON.parse(text)
          : secureJsonParse.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
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

/** What JSON would reject, drop or mangle about `value` itself (not its children), if anything. */
function unencodableReason(value: unknown): string | undefined {
  switch (typeof value) {
    case 'bigint':
      return 'is a BigInt, which JSON cannot encode; convert it to a string';
    case 'function':
      return 'is a function, which cannot be cached';
    case 'symbol':
      return 'is a symbol, which cannot be cached';
    case 'object':
      if (value instanceof Map) return 'is a Map, which JSON would turn into {}; convert it to an array';
      if (value instanceof Set) return 'is a Set, which JSON would turn into {}; convert it to an array';
      return undefined;
    default:
      return undefined;
  }
}

function unencodableError(key: string, reason: string): SerializationError {
  return new SerializationError(
    `[dc:core] ${key === '' ? 'the value' : `key ${JSON.stringify(key)}`} ${reason}`,
  );
}

/** What `JSON.stringify` serializes in place of `value` at `key`: the result of its `toJSON`, if any. */
function toJsonOf(value: unknown, key: string): unknown {
  if ((typeof value === 'object' && value !== null) || typeof value === 'bigint') {
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return toJSON.call(value, key);
  }
  return value;
}

/**
 * Throws the {@link SerializationError} naming the first value JSON would not keep faithfully,
 * or the first array or object nested deeper than `maxDepth` (decode would refuse its text, so
 * the entry could be stored but never read). Walks what `JSON.stringify` walks (own enumerable
 * string keys, `toJSON` results). Only called after stringify succeeded, so the value has no
 * cycles and at most as many nodes as the text it produced.
 */
function assertEncodable(root: unknown, maxDepth: number): void {
  const top = toJsonOf(root, '');
  const topReason = unencodableReason(top);
  if (topReason !== undefined) throw unencodableError('', topReason);
  if (typeof top !== 'object' || top === null) return;
  const walk: Walk = { maxDepth, deferred: [{ holder: top, depth: 1 }] };
  for (let next = walk.deferred.pop(); next !== undefined; next = walk.deferred.pop()) {
    assertEncodableChildren(next.holder, next.depth, 0, walk);
  }
}

interface Walk {
  readonly maxDepth: number;
  /** Subtrees reached at {@link MAX_WALK_RECURSION} frames, walked after the current one. */
  readonly deferred: Array<{ readonly holder: object; readonly depth: number }>;
}

/**
 * Recursion is 6-10x faster than an explicit stack here (no push/pop per object), but a value
 * nested deeper than JavaScript's stack allows can still have been stringified natively: below
 * this many frames the walk recurses, beyond it the subtree is deferred and starts a new stack.
 */
const MAX_WALK_RECURSION = 500;

/** `depth`: nesting of `holder` (the top value is 1); `frames`: recursion since the last deferral. */
function assertEncodableChildren(holder: object, depth: number, frames: number, walk: Walk): void {
  if (depth > walk.maxDepth) {
    throw new SerializationError(
      `[dc:core] value nests deeper than maxDepth (${walk.maxDepth}), so it could not be decoded`,
    );
  }
  if (Array.isArray(holder)) {
    for (let i = 0; i < holder.length; i++) {
      const child: unknown = holder[i];
      // Strings, numbers, booleans, null and undefined are most children, and JSON keeps them.
      if (typeof child === 'object' ? child !== null : isUnencodablePrimitive(child)) {
        assertEncodableChild(child, i, depth, frames, walk);
      }
    }
    return;
  }
  for (const key in holder) {
    const child: unknown = (holder as Record<string, unknown>)[key];
    if (
      (typeof child === 'object' ? child !== null : isUnencodablePrimitive(child)) &&
      Object.hasOwn(holder, key)
    ) {
      assertEncodableChild(child, key, depth, frames, walk);
    }
  }
}

function isUnencodablePrimitive(value: unknown): boolean {
  return typeof value === 'function' || typeof value === 'symbol' || typeof value === 'bigint';
}

function assertEncodableChild(
  child: unknown,
  key: string | number,
  depth: number,
  frames: number,
  walk: Walk,
): void {
  const resolved = toJsonOf(child, String(key));
  const reason = unencodableReason(resolved);
  if (reason !== undefined) throw unencodableError(String(key), reason);
  if (typeof resolved !== 'object' || resolved === null) return;
  if (frames < MAX_WALK_RECURSION) assertEncodableChildren(resolved, depth + 1, frames + 1, walk);
  else walk.deferred.push({ holder: resolved, depth: depth + 1 });
}

function rejectUnencodable(this: unknown, key: string, value: unknown): unknown {
  const reason = unencodableReason(value);
  if (reason !== undefined) throw unencodableError(key, reason);
  return value;
}

/** Turns a native stringify failure (a cycle, a BigInt) into a SerializationError naming its cause. */
function explainEncodeFailure(value: unknown, error: unknown): SerializationError {
  // The slow replacer pass runs only here, on failure; stringify itself stops it at a cycle.
  try {
    JSON.stringify(value, rejectUnencodable);
  } catch (named) {
    if (named instanceof SerializationError) return named;
  }
  return new SerializationError(`[dc:core] value cannot be encoded as JSON: ${(error as Error).message}`, {
    cause: error,
  });
}

function assertWithinBytes(text: string, maxBytes: number, what: string): void {
  // A UTF-16 code unit is at most 3 UTF-8 bytes, so only long strings need the exact count.
  if (text.length * 3 <= maxBytes) return;
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > maxBytes) {
    throw new SerializationError(`[dc:core] ${what} is ${bytes} bytes, over maxBytes (${maxBytes})`);
  }
}

/**
 * True when `text` holds more than `limit` `[` and `{` characters (inside strings too): an upper
 * bound of its nesting, so when this is false the exact {@link jsonNestingExceeds} is too.
 */
function openingBracketsExceed(text: string, limit: number): boolean {
  let count = 0;
  for (let at = text.indexOf('{'); at !== -1; at = text.indexOf('{', at + 1)) {
    if (++count > limit) return true;
  }
  for (let at = text.indexOf('['); at !== -1; at = text.indexOf('[', at + 1)) {
    if (++count > limit) return true;
  }
  return false;
}

/**
 * True when `secure-json-parse` (`protoAction`/`constructorAction: 'error'`) would return exactly
 * what `JSON.parse` returns, so its two regex scans can be skipped. It rejects only an own
 * `__proto__` key, or a `constructor` key whose object value has an own `prototype` key. Without
 * `\u` escapes (the only JSON escape that could spell those letters) such keys are written out,
 * so the text then contains `_proto`, or both `uctor` and `prototype`. These needles start with
 * characters rare in ordinary JSON, which native search skips to: on a 1 KB record the three
 * searches took ~140 ns, where one for `proto` (`p` is common) took ~240. secure-json-parse also
 * strips a leading BOM, which `JSON.parse` rejects, so a BOM takes the safe path.
 */
function cannotHoldPrototypeKeys(text: string): boolean {
  return (
    text.charCodeAt(0) !== 0xfeff &&
    !text.includes('\\u') &&
    !text.includes('_proto') &&
    !(text.includes('uctor') && text.includes('prototype'))
  );
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
