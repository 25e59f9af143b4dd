import { InvalidOptionError } from '@dc/core';

/**
 * Injective key layout: `<namespace length>:<namespace>:<key>`.
 *
 * The length prefix says exactly where the namespace ends, so no (namespace, key) pair can
 * produce another pair's Redis key, whatever characters either contains. Redis keys are UTF-8
 * bytes, and a lone surrogate encodes to the same bytes as U+FFFD, so keys that are not
 * well-formed UTF-16 are stored under `<len>:<namespace>#<JSON string of the key>` instead: a
 * different separator, and `JSON.stringify` escapes lone surrogates (`\ud800`).
 *
 * Keys are not Unicode-normalized: NFC and NFD spellings of one text are distinct keys.
 */

/** The Redis key for `key` in `namespace` (see the module comment for the layout). */
export function namespacedKey(namespace: string, key: string): string {
  const head = `${namespace.length}:${namespace}`;
  return isWellFormed(key) ? `${head}:${key}` : `${head}#${JSON.stringify(key)}`;
}

/**
 * {@link namespacedKey} for one namespace, with the prefix built once (the store maps every
 * key it sends through this).
 */
export function createKeyMapper(namespace: string): (key: string) => string {
  const head = `${namespace.length}:${namespace}`;
  const plain = `${head}:`;
  return (key) => (isWellFormed(key) ? plain + key : `${head}#${JSON.stringify(key)}`);
}

/** The `<len>:<namespace>` prefix shared by every key of `namespace`. */
export function namespacePrefix(namespace: string): string {
  return `${namespace.length}:${namespace}`;
}

/** A `SCAN MATCH` pattern matching exactly the keys of `namespace` (glob characters escaped). */
export function namespaceScanPattern(namespace: string): string {
  return `${escapeGlob(namespacePrefix(namespace))}[:#]*`;
}

/** Escapes Redis glob metacharacters (`* ? [ ] \`) so `text` matches only itself. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\^]/g, '\\$&');
}

/**
 * Throws unless `namespace` is usable: a well-formed string without `{`/`}` (so it never
 * becomes a cluster hash tag and moves a tenant's keys to one slot).
 */
export function assertNamespace(namespace: unknown, scope = 'redis'): asserts namespace is string {
  if (typeof namespace !== 'string') {
    throw new InvalidOptionError(`[dc:${scope}] \`namespace\` must be a string, got ${typeof namespace}`);
  }
  if (namespace.includes('{') || namespace.includes('}')) {
    throw new InvalidOptionError(
      `[dc:${scope}] \`namespace\` must not contain \`{\` or \`}\` (it would become a cluster hash tag), got ${JSON.stringify(namespace.slice(0, 64))}`,
    );
  }
  if (!isWellFormed(namespace)) {
    throw new InvalidOptionError(
      `[dc:${scope}] \`namespace\` must be well-formed UTF-16 (no lone surrogates)`,
    );
  }
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

// Looked up once: the key mapper runs for every key the store sends.
const hasNativeIsWellFormed =
  typeof (String.prototype as { isWellFormed?: unknown }).isWellFormed === 'function';

function isWellFormed(text: string): boolean {
  return hasNativeIsWellFormed
    ? (text as unknown as { isWellFormed(): boolean }).isWellFormed()
    : !LONE_SURROGATE.test(text);
}
