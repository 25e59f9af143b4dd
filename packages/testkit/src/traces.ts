import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

/**
 * Where the shared reference traces live: `<repo>/../shared/data/traces` (the CI clone has
 * `shared/` beside it, as the development checkout does). Formats are in that folder's README.
 */
export const TRACES_DIR = join(
  fileURLToPath(new URL('.', import.meta.url)),
  '../../../../shared/data/traces',
);

/** One capacity's exact hit counts for LRU, ARC and Belady's OPT. */
export interface ReferenceRow {
  readonly size: number;
  readonly LRU: number;
  readonly ARC: number;
  readonly OPT: number;
}

/** A trace's access count, distinct keys and reference rows. */
export interface TraceReference {
  readonly accesses: number;
  readonly unique: number;
  readonly rows: readonly ReferenceRow[];
}

/** `reference-hits.json`: exact hit counts per trace and capacity. */
export function loadTraceReference(): Record<string, TraceReference> {
  return JSON.parse(readFileSync(join(TRACES_DIR, 'reference-hits.json'), 'utf8'));
}

let xzChecked: boolean | undefined;
/** True when the `xz` CLI can decompress the cache2k traces. */
export function hasXz(): boolean {
  if (xzChecked === undefined) {
    try {
      execFileSync('xz', ['--version'], { stdio: 'ignore' });
      xzChecked = true;
    } catch {
      xzChecked = false;
    }
  }
  return xzChecked;
}

function bigEndianInts(buffer: Buffer): Int32Array {
  const count = buffer.length >>> 2;
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) out[i] = buffer.readInt32BE(i * 4);
  return out;
}

/** Reads a trace into its key sequence (one int per access), per the traces README formats. */
export function readTrace(file: string): Int32Array {
  const path = join(TRACES_DIR, file);
  if (file.endsWith('.xz')) {
    const raw = execFileSync('xz', ['-dc', path], { maxBuffer: 1 << 30 });
    return bigEndianInts(raw);
  }
  const raw = gunzipSync(readFileSync(path));
  if (file.endsWith('.trc.bin.gz')) return bigEndianInts(raw);
  const keys: number[] = [];
  for (const line of raw.toString('latin1').split('\n')) {
    const text = line.trim();
    if (text === '' || text === '*') continue;
    keys.push(Number.parseInt(text, 10));
  }
  return Int32Array.from(keys);
}

/** The trace as string keys (the store's key type), sharing one string per distinct key. */
export function traceKeys(trace: Int32Array): string[] {
  const names = new Map<number, string>();
  const out = new Array<string>(trace.length);
  for (let i = 0; i < trace.length; i++) {
    const id = trace[i]!;
    let name = names.get(id);
    if (name === undefined) {
      name = String(id);
      names.set(id, name);
    }
    out[i] = name;
  }
  return out;
}

/** Replays `keys` against a store: every access a `get`, a miss `set`s the key. Returns hits. */
export function replayTrace(
  store: { get(key: string): unknown; set(key: string, value: unknown): unknown },
  keys: readonly string[],
): number {
  let hits = 0;
  for (const key of keys) {
    if (store.get(key) === undefined) store.set(key, 1);
    else hits++;
  }
  return hits;
}
