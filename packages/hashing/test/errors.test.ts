import { describe, expect, it } from 'vitest';
// @dc/hashing has no dependency on @dc/core (it is a zero-dependency leaf), so the guard is
// imported from core's source to prove the two error contracts stay compatible.
import { isDcError } from '../../core/src/errors';
import { createKetamaRing, keySlot } from '../src/index';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('errors thrown by @dc/hashing', () => {
  it("are recognised by @dc/core's isDcError with their code", () => {
    const keyError = thrown(() => keySlot(1 as never));
    expect(isDcError(keyError, 'E_INVALID_KEY')).toBe(true);
    expect(isDcError(keyError, 'E_INVALID_OPTION')).toBe(false);
    const optionError = thrown(() => createKetamaRing([]));
    expect(isDcError(optionError, 'E_INVALID_OPTION')).toBe(true);
  });

  it('carry the class names and brand of @dc/core errors', () => {
    const error = thrown(() => createKetamaRing([])) as Error;
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('InvalidOptionError');
    expect((error as unknown as Record<symbol, unknown>)[Symbol.for('@dc/core/DcError')]).toBe(true);
    expect(error.message).toMatch(/^\[dc:hashing\] `servers`/);
  });
});
