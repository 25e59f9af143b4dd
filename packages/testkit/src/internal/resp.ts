import { Socket } from 'node:net';
import { RespError, type RespReply } from '../resp-reply';

/** Options for {@link sendCommand}. */
export interface SendCommandOptions {
  host: string;
  port: number;
  /** Sent with `AUTH` before the command when set. */
  password?: string;
  /** ACL user for `AUTH <username> <password>`; without it `AUTH <password>` (the default user). */
  username?: string;
  /** Rejects when no full reply arrived in time (ms). */
  timeoutMs: number;
}

/**
 * Sends one command on a fresh connection and resolves its reply. A tiny RESP2 client keeps
 * the harness free of client-library behaviour (offline queues, retries) that would hide what
 * the server is doing, and works on servers a test has frozen (the timeout fires instead).
 * @throws RespError for an error reply.
 */
export async function sendCommand(args: readonly string[], options: SendCommandOptions): Promise<RespReply> {
  const [reply] = await sendCommands([args], options);
  if (reply instanceof RespError) throw reply;
  return reply ?? null;
}

/**
 * Sends `list` in order on one fresh connection (so `WAIT` sees the writes before it) and
 * resolves every reply; error replies are {@link RespError} values in the result.
 * @throws RespError when `AUTH` fails; Error on timeout or a closed connection.
 */
export function sendCommands(
  list: ReadonlyArray<readonly string[]>,
  options: SendCommandOptions,
): Promise<RespReply[]> {
  const { host, port, password, username, timeoutMs } = options;
  const auth = password === undefined ? 0 : 1;
  const commands: Array<readonly string[]> = [];
  if (password !== undefined)
    commands.push(username === undefined ? ['AUTH', password] : ['AUTH', username, password]);
  commands.push(...list);
  const what = list.map((args) => args[0]).join('+');

  return new Promise((resolve, reject) => {
    const socket = new Socket();
    let buffer = Buffer.alloc(0);
    const replies: RespReply[] = [];
    let settled = false;
    const finish = (error: Error | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(replies.slice(auth));
    };
    const timer = setTimeout(
      () => finish(new Error(`[dc:testkit] ${what} to ${host}:${port} timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.on('error', (error) => finish(error));
    socket.on('close', () => finish(new Error(`[dc:testkit] ${host}:${port} closed the connection`)));
    socket.on('data', (chunk) => {
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
      try {
        for (;;) {
          const parsed = parseReply(buffer, 0);
          if (parsed === undefined) return;
          buffer = buffer.subarray(parsed.end);
          replies.push(parsed.reply);
          if (auth && replies.length === 1 && parsed.reply instanceof RespError) {
            finish(parsed.reply);
            return;
          }
          if (replies.length === commands.length) {
            finish(undefined);
            return;
          }
        }
      } catch (error) {
        finish(error as Error);
      }
    });
    socket.connect(port, host, () => {
      socket.write(commands.map(encodeCommand).join(''));
    });
  });
}

function encodeCommand(args: readonly string[]): string {
  let out = `*${args.length}\r\n`;
  for (const arg of args) out += `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`;
  return out;
}

/** Parses one reply at `offset`; `undefined` when the buffer does not hold all of it yet. */
function parseReply(buffer: Buffer, offset: number): { reply: RespReply; end: number } | undefined {
  const lineEnd = buffer.indexOf('\r\n', offset);
  if (lineEnd === -1) return undefined;
  const type = String.fromCharCode(buffer[offset] ?? 0);
  const line = buffer.toString('utf8', offset + 1, lineEnd);
  const next = lineEnd + 2;
  switch (type) {
    case '+':
      return { reply: line, end: next };
    case '-':
      return { reply: new RespError(line), end: next };
    case ':':
      return { reply: Number(line), end: next };
    case '$': {
      const length = Number(line);
      if (length < 0) return { reply: null, end: next };
      if (buffer.length < next + length + 2) return undefined;
      return { reply: buffer.toString('utf8', next, next + length), end: next + length + 2 };
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return { reply: null, end: next };
      const items: RespReply[] = [];
      let at = next;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buffer, at);
        if (item === undefined) return undefined;
        items.push(item.reply);
        at = item.end;
      }
      return { reply: items, end: at };
    }
    default:
      throw new Error(`[dc:testkit] unexpected RESP type byte ${JSON.stringify(type)}`);
  }
}

/** Flattens a reply to text: arrays one item per line, `null` as an empty string. */
export function replyToText(reply: RespReply): string {
  if (reply === null) return '';
  if (reply instanceof RespError) return reply.message;
  if (Array.isArray(reply)) return reply.map(replyToText).join('\n');
  return String(reply);
}

/** Parses `INFO` text (`key:value` lines, `#` section headers) into a record. */
export function parseInfo(text: string): Record<string, string> {
  const info: Record<string, string> = Object.create(null);
  for (const line of text.split(/\r?\n/)) {
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon > 0) info[line.slice(0, colon)] = line.slice(colon + 1);
  }
  return info;
}
