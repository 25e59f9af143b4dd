/**
 * Renders a bad input for an error message: strings quoted (long ones cut), everything else by
 * its shape, so a message names what the caller passed without dumping it.
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    const shown = value.length > 64 ? `${value.slice(0, 61)}...` : value;
    return JSON.stringify(shown);
  }
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) {
    return String(value);
  }
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return value.toString();
  if (Array.isArray(value)) return 'an array';
  return `an object (${Object.prototype.toString.call(value).slice(8, -1)})`;
}
