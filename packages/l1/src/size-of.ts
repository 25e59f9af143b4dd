/**
 * The default byte estimator of the L1's `maxBytes` budget.
 *
 * It approximates V8's heap cost rather than a serialized size: strings cost two bytes per
 * UTF-16 code unit, numbers eight, binary data its byte length, and every object, array, Map
 * and Set a fixed header plus its members. The walk is bounded (`MAX_NODES` members), so a
 * huge or cyclic value costs a bounded amount of time and is counted at least that large.
 */

/** Bytes the L1 charges for one entry besides its key and value (entry, slot, its promise, index). */
export const ENTRY_OVERHEAD_BYTES = 96;

const OBJECT_HEADER_BYTES = 32;
const SLOT_BYTES = 8;
const MAX_NODES = 10_000;

/**
 * Estimates the bytes one cached value occupies: `estimateSize('abc') === 22`.
 * Cycles are counted once; after `MAX_NODES` members the rest of the value is not walked.
 */
export function estimateSize(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return 16 + 2 * value.length;
    case 'number':
    case 'bigint':
      return 8;
    case 'boolean':
    case 'undefined':
    case 'symbol':
      return 4;
    case 'function':
      return OBJECT_HEADER_BYTES;
    default:
      return value === null ? 4 : estimateObject(value as object);
  }
}

function estimateObject(root: object): number {
  const seen = new Set<object>();
  const stack: unknown[] = [root];
  let total = 0;
  let nodes = 0;
  while (stack.length > 0 && nodes < MAX_NODES) {
    const value = stack.pop();
    nodes++;
    if (typeof value !== 'object' || value === null) {
      total += estimateSize(value);
      continue;
    }
    if (seen.has(value)) {
      total += SLOT_BYTES;
      continue;
    }
    seen.add(value);
    if (ArrayBuffer.isView(value)) {
      total += OBJECT_HEADER_BYTES + value.byteLength;
    } else if (value instanceof ArrayBuffer) {
      total += OBJECT_HEADER_BYTES + value.byteLength;
    } else if (value instanceof Map) {
      total += OBJECT_HEADER_BYTES;
      for (const [k, v] of value) {
        total += 2 * SLOT_BYTES;
        stack.push(k, v);
      }
    } else if (value instanceof Set) {
      total += OBJECT_HEADER_BYTES;
      for (const v of value) {
        total += SLOT_BYTES;
        stack.push(v);
      }
    } else if (Array.isArray(value)) {
      total += OBJECT_HEADER_BYTES + SLOT_BYTES * value.length;
      for (const item of value) stack.push(item);
    } else if (value instanceof Date) {
      total += OBJECT_HEADER_BYTES + 8;
    } else {
      total += OBJECT_HEADER_BYTES;
      for (const key of Object.keys(value)) {
        total += SLOT_BYTES + 16 + 2 * key.length;
        stack.push((value as Record<string, unknown>)[key]);
      }
    }
  }
  // Members left unwalked still cost at least a slot each.
  return total + stack.length * SLOT_BYTES;
}
