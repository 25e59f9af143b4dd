import { describe, expect, it } from 'vitest';
import {
  CapacityError,
  DC_ERROR_CODES,
  DcError,
  InvalidOptionError,
  isDcError,
  SerializationError,
} from '../src/index';

describe('isDcError', () => {
  it('recognises every subclass and checks the code', () => {
    const error = new InvalidOptionError('bad');
    expect(isDcError(error)).toBe(true);
    expect(isDcError(error, 'E_INVALID_OPTION')).toBe(true);
    expect(isDcError(error, 'E_SERIALIZATION')).toBe(false);
    expect(error).toBeInstanceOf(DcError);
    expect(error.name).toBe('InvalidOptionError');
  });

  it('recognises an error from another copy of the package by its brand', () => {
    // A structurally identical object branded with the same registered symbol, as a CJS copy would be.
    const foreign = Object.assign(new Error('x'), {
      code: 'E_CAPACITY',
      [Symbol.for('@dc/core/DcError')]: true,
    });
    expect(isDcError(foreign, 'E_CAPACITY')).toBe(true);
  });

  it('rejects look-alikes without the brand', () => {
    expect(isDcError(Object.assign(new Error('x'), { code: 'E_CAPACITY' }))).toBe(false);
    expect(isDcError(null)).toBe(false);
    expect(isDcError('E_CAPACITY')).toBe(false);
  });

  it('keeps the cause when wrapping', () => {
    const cause = new TypeError('root');
    expect(new SerializationError('wrapped', { cause }).cause).toBe(cause);
    expect(new CapacityError('no cause').cause).toBeUndefined();
  });

  it('has a code for every subclass', () => {
    expect(new Set(DC_ERROR_CODES).size).toBe(DC_ERROR_CODES.length);
  });
});
