// States of the scanner between chunks.
const TYPE = 0; // next byte starts a reply
const LINE = 1; // inside a `+`, `-` or `:` line, up to `\n`
const ARRAY_LEN = 2; // inside the count of a `*` header
const BULK_LEN = 3; // inside the length of a `$` header
const BULK = 4; // skipping a bulk body and its `\r\n`
const PASS = 5; // an unknown type byte: the parser reports a fatal error and drops the socket

/** Tracks the nesting depth of a RESP2 reply stream, chunk by chunk, without building replies. */
export interface RespDepthScanner {
  /** Scans one chunk; false when a reply nests deeper than the limit (the stream is unusable). */
  push(chunk: Uint8Array): boolean;
}

/**
 * Creates a scanner that follows RESP2 framing (`*` arrays, `$` bulk strings, `+`/`-`/`:` lines)
 * and keeps only the count of elements still due at each open array level. Bulk bodies are
 * skipped by length and lines by `indexOf`, so only headers are read byte by byte.
 */
export function createRespDepthScanner(maxDepth: number): RespDepthScanner {
  // remaining[d] = elements still due in the array open at depth d (1-based).
  const remaining = new Float64Array(maxDepth + 1);
  let depth = 0;
  let state = TYPE;
  let number = 0;
  let negative = false;
  let skip = 0;

  const completeValue = (): void => {
    while (depth > 0) {
      const left = (remaining[depth] as number) - 1;
      remaining[depth] = left;
      if (left > 0) return;
      depth--;
    }
  };

  return {
    push(chunk) {
      const length = chunk.length;
      let i = 0;
      while (i < length) {
        switch (state) {
          case TYPE: {
            const type = chunk[i++];
            if (type === 42) {
              state = ARRAY_LEN;
              number = 0;
              negative = false;
            } else if (type === 36) {
              state = BULK_LEN;
              number = 0;
              negative = false;
            } else if (type === 43 || type === 45 || type === 58) {
              state = LINE;
            } else {
              state = PASS;
              return true;
            }
            break;
          }
          case LINE: {
            const end = indexOfNewline(chunk, i);
            if (end === -1) return true;
            i = end + 1;
            state = TYPE;
            completeValue();
            break;
          }
          case ARRAY_LEN:
          case BULK_LEN: {
            const byte = chunk[i++] as number;
            if (byte === 10) {
              if (state === BULK_LEN) {
                if (negative) {
                  state = TYPE;
                  completeValue();
                } else {
                  skip = number + 2;
                  state = BULK;
                }
              } else if (negative || number === 0) {
                state = TYPE;
                completeValue();
              } else {
                if (depth === maxDepth) return false;
                depth++;
                remaining[depth] = number;
                state = TYPE;
              }
            } else if (byte === 45) {
              negative = true;
            } else if (byte >= 48 && byte <= 57) {
              number = number * 10 + (byte - 48);
            }
            break;
          }
          case BULK: {
            const take = Math.min(skip, length - i);
            i += take;
            skip -= take;
            if (skip === 0) {
              state = TYPE;
              completeValue();
            }
            break;
          }
          default:
            return true;
        }
      }
      return true;
    },
  };
}

function indexOfNewline(chunk: Uint8Array, from: number): number {
  return chunk.indexOf(10, from);
}
