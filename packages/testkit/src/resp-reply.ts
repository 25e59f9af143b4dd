/** An error reply (`-ERR …`) from the server. */
export class RespError extends Error {
  override readonly name = 'RespError';
}

/**
 * A reply decoded from RESP2. A top-level error reply makes `RedisNode.command`/`call` reject; in a
 * `RedisNode.pipeline` result, and nested inside arrays (EXEC), errors appear as {@link RespError} values.
 */
export type RespReply = string | number | null | RespError | RespReply[];
