/**
 * Errors thrown by @dc/hashing.
 *
 * The package is a zero-dependency leaf (see DESIGN.md), so it cannot import `@dc/core`. These
 * classes honour core's error contract instead: the same `code` values, the same class names and
 * the `Symbol.for('@dc/core/DcError')` brand, so `isDcError(err, 'E_INVALID_OPTION')` from any
 * copy of `@dc/core` recognises them.
 */

const DC_ERROR_BRAND = Symbol.for('@dc/core/DcError');

/** The subset of `@dc/core`'s `DcErrorCode` that this package throws. */
export type HashingErrorCode = 'E_INVALID_OPTION' | 'E_INVALID_KEY' | 'E_STORE_UNAVAILABLE';

/** Base of every error thrown here; structurally a `@dc/core` `DcError`. */
export class HashingError extends Error {
  readonly code: HashingErrorCode;
  readonly [DC_ERROR_BRAND] = true;

  constructor(code: HashingErrorCode, message: string) {
    super(message);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Same name and code as `@dc/core`'s `InvalidOptionError`. */
export class InvalidOptionError extends HashingError {
  constructor(message: string) {
    super('E_INVALID_OPTION', message);
  }
}

/** Same name and code as `@dc/core`'s `InvalidKeyError`. */
export class InvalidKeyError extends HashingError {
  constructor(message: string) {
    super('E_INVALID_KEY', message);
  }
}

/** Same name and code as `@dc/core`'s `CacheUnavailableError`: no node serves a slot. */
export class CacheUnavailableError extends HashingError {
  constructor(message: string) {
    super('E_STORE_UNAVAILABLE', message);
  }
}

/** Renders a value for an error message without throwing on symbols, bigints or cycles. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'symbol') return value.toString();
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  return `an object (${Object.prototype.toString.call(value)})`;
}

/** Throws unless `key` is a string or a `Uint8Array` (Buffer included). */
export function invalidKey(name: string, key: unknown): InvalidKeyError {
  return new InvalidKeyError(
    `[dc:hashing] \`${name}\` must be a string or a Uint8Array (Buffer), got ${describe(key)}`,
  );
}
