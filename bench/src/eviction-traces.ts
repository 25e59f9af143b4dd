/**
 * Reads the shared real-world traces (../shared/data/traces, formats in its README): LIRS
 * traces are gzip text (one integer key per line, blank and `*` lines skipped); cache2k traces
 * are xz big-endian int32 (decompressed with the `xz` CLI); arc-oltp is gzip big-endian int32.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

export const TRACES_DIR = join(fileURLToPath(import.meta.url), '../../../../shared/data/traces');

export interface ReferenceRow {
  readonly size: number;
  readonly LRU: number;
  readonly ARC: number;
  readonly OPT: number;
}

export interface TraceReference {
  readonly accesses: number;
  readonly unique: number;
  readonly rows: readonly ReferenceRow[];
}

export function loadReference(): Record<string, TraceReference> {
  return JSON.parse(readFileSync(join(TRACES_DIR, 'reference-hits.json'), 'utf8'));
}

/** True when the `xz` CLI is available for the cache2k traces. */
export function hasXz(): boolean {
  try {
    execFileSync('xz', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function bigEndianInts(buffer: Buffer): Int32Array {
  const out = new Int32Array(buffer.length >>> 2);
  for (let i = 0; i < out.length; i++) out[i] = buffer.readInt32BE(i * 4);
  return out;
}

/** The trace's keys as strings (one shared string per distinct key). */
export function readTraceKeys(file: string): string[] {
  const path = join(TRACES_DIR, file);
  let ids: Int32Array;
  if (file.endsWith('.xz')) {
    ids = bigEndianInts(execFileSync('xz', ['-dc', path], { maxBuffer: 1 << 30 }));
  } else {
    const raw = gunzipSync(readFileSync(path));
    if (file.endsWith('.trc.bin.gz')) ids = bigEndianInts(raw);
    else {
      const keys: number[] = [];
      for (const line of raw.toString('latin1').split('\n')) {
        const text = line.trim();
        if (text !== '' && text !== '*') keys.push(Number.parseInt(text, 10));
      }
      ids = Int32Array.from(keys);
    }
  }
  const names = new Map<number, string>();
  const out = new Array<string>(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i] as number;
    let name = names.get(id);
    if (name === undefined) {
      name = String(id);
      names.set(id, name);
    }
    out[i] = name;
  }
  return out;
}
