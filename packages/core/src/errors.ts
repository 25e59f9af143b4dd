/**
 * Typed errors shared by every @dc package.
 *
 * `instanceof` fails when a program loads both the ESM and the CJS copy of `@dc/core`
 * (or two versions of it), so every error carries a `Symbol.for` brand that `isDcError`
 * checks instead.
 */

const DC_ERROR_BRAND: unique symbol = Symbol.for('@dc/core/DcError') as never;

/** Every error code an @dc package throws. */
export const DC_ERROR_CODES = [
  'E_INVALID_OPTION',
  'E_INVALID_KEY',
  'E_SERIALIZATION',
  'E_STORE_UNAVAILABLE',
  'E_LOADER_TIMEOUT',
  'E_CAPACITY',
  'E_BACKPRESSURE',
  'E_CLOSED',
  'E_LOCK',
] as const;

/** One of {@link DC_ERROR_CODES}. */
export type DcErrorCode = (typeof DC_ERROR_CODES)[number];

/** Options accepted by every {@link DcError} constructor. */
export interface DcErrorOptions {
  /** The underlying error when this one wraps another. */
  cause?: unknown;
}

/** Base class of every error thrown by @dc. Check with {@link isDcError}, not `instanceof`. */
export class DcError extends Error {
  /** Machine-readable failure code. */
  readonly code: DcErrorCode;
  readonly [DC_ERROR_BRAND] = true;

  constructor(code: DcErrorCode, message: string, options?: DcErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = new.target.name;
  }
}

/** An option, argument, TTL or duration was invalid. Fix the caller; retrying will not help. */
export class InvalidOptionError extends DcError {
  constructor(message: string, options?: DcErrorOptions) {
    super('E_INVALID_OPTION', message, options);
  }
}

/** A cache key was empty, not a string, or too long. */
export class InvalidKeyError extends DcError {
  constructor(message: string, options?: DcErrorOptions) {
    super('E_INVALID_KEY', message, options);
  }
}

/** A value could not be encoded, or stored bytes could not be decoded safely. */
export class SerializationError extends DcError {
  constructor(message: string, options?: DcErrorOptions) {
    super('E_SERIALIZATION', message, options);
  }
}

/** The store (usually L2) was unreachable, too slow, or its circuit breaker is open. */
export class CacheUnavailableError extends DcError {
  constructor(message: string, options?: DcErrorOptions) {
    super('E_STORE_UNAVAILABLE', message, options);
  }
}

/** A loader did not settle within its hard timeout. */
export class LoaderTimeoutError extends DcError {
  constructor(message: string, options?: DcErrorOptions) {
    super('E_LOADER_TIMEOUT', message, options);
  }
}

/** A bounded store refused a write: `noeviction` is full, or one entry exceeds the byte budget. */
export class CapacityError extends DcError {
  constructor(message: string, options?: DcErrorOptions) {
    super('E_CAPACITY', message, options);
  }
}

/** A bounded queue is full and is configured to reject rather than drop. */
export class BackpressureError extends DcError {
  constructor(message: string, options?: DcErrorOptions) {
    super('E_BACKPRESSURE', message, options);
  }
}

/** The component was used after `close()`. */
export class ClosedError extends DcError {
  constructor(message: string, options?: DcErrorOptions) {
    super('E_CLOSED', message, options);
  }
}

/** A distributed lock or lease could not be acquired, extended or released as asked. */
export class LockError extends DcError {
  constructor(message: string, options?: DcErrorOptions) {
    super('E_LOCK', message, options);
  }
}

/**
 * True when `value` is an error thrown by any copy of `@dc/core` (ESM, CJS or another version),
 * optionally with the given `code`.
 */
export function isDcError(value: unknown, code?: DcErrorCode): value is DcError {
  if (typeof value !== 'object' || value === null) return false;
  if ((value as { [DC_ERROR_BRAND]?: unknown })[DC_ERROR_BRAND] !== true) return false;
  return code === undefined || (value as DcError).code === code;
}
