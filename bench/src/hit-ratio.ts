/**
 * Replays every trace in ../shared/data/traces for every @dc policy at every reference
 * capacity (every access a `get`; a miss `set`s the key; capacity in entries), prints hits next
 * to the LRU/ARC/OPT references of reference-hits.json, and writes one SVG chart per trace to
 * bench/results/<trace>.svg (hit ratio vs capacity, log x axis). Exits non-zero when our LRU
 * differs from the reference LRU or any policy beats OPT: either means the replay is wrong.
 *
 *   pnpm --filter @dc/bench hit-ratio
 *   HIT_RATIO_TRACES=lirs-loop,arc-oltp pnpm --filter @dc/bench hit-ratio
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MemoryStoreOptions } from '@dc/eviction';
import { createMemoryStore } from '@dc/eviction';
import { hasXz, loadTraceReference, readTrace, traceKeys } from '@dc/testkit';
import { newCache } from 'transitory';
import { seededRandom } from './harness';

interface Line {
  readonly name: string;
  readonly color: string;
  readonly options: Partial<MemoryStoreOptions<number>>;
}

const LINES: Line[] = [
  { name: 'LRU', color: '#1f77b4', options: { policy: 'lru' } },
  { name: 'SIEVE', color: '#2ca02c', options: { policy: 'sieve' } },
  { name: 'LFU', color: '#9467bd', options: { policy: 'lfu' } },
  { name: 'Redis LFU', color: '#8c564b', options: { policy: 'lfu', lfuApproximate: true } },
  { name: 'W-TinyLFU', color: '#d62728', options: { policy: 'tinylfu' } },
];

/**
 * transitory (the other W-TinyLFU in Node), replayed the same way as a peer reference. As
 * shipped it evicts in a maintenance pass that runs once it holds `maxSize + max(1%, 5)` entries
 * (or on a 5 s timer, which never fires in this synchronous replay), so between passes it keeps
 * up to that many: on lirs-scan@2000 and lirs-zigzag@2000 that beats OPT. `bounded` calls its
 * public `cleanUp()` after every write, which runs that pass at once and holds it to `maxSize`,
 * the capacity every other policy (and OPT) gets.
 */
function replayTransitory(keys: readonly string[], capacity: number, bounded: boolean): number {
  const cache = newCache<string, number>().maxSize(capacity).build();
  let hits = 0;
  for (const key of keys) {
    if (cache.getIfPresent(key) != null) hits++;
    else {
      cache.set(key, 1);
      if (bounded) cache.cleanUp();
    }
  }
  return hits;
}

const RESULTS = join(fileURLToPath(import.meta.url), '../../results');

function replay(
  keys: readonly string[],
  capacity: number,
  options: Partial<MemoryStoreOptions<number>>,
): number {
  const store = createMemoryStore<number>({
    maxEntries: capacity,
    activeExpiry: false,
    random: seededRandom(12345),
    ...options,
  });
  let hits = 0;
  for (const key of keys) {
    if (store.get(key) === undefined) store.set(key, 1);
    else hits++;
  }
  return hits;
}

interface Series {
  readonly name: string;
  readonly color: string;
  readonly dash?: string;
  readonly points: ReadonlyArray<readonly [number, number]>;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A hand-written line chart: log-scaled capacity on x, hit ratio (%) on y. */
function chart(title: string, series: readonly Series[]): string {
  const width = 720;
  const height = 420;
  const left = 60;
  const right = 170;
  const top = 40;
  const bottom = 50;
  const xs = series.flatMap((s) => s.points.map(([x]) => x));
  const ys = series.flatMap((s) => s.points.map(([, y]) => y));
  const xMin = Math.log10(Math.min(...xs));
  const xMax = Math.log10(Math.max(...xs));
  const yMax = Math.min(100, Math.ceil((Math.max(...ys) + 2) / 10) * 10);
  const px = (x: number) =>
    left + ((Math.log10(x) - xMin) / Math.max(1e-9, xMax - xMin)) * (width - left - right);
  const py = (y: number) => top + (1 - y / yMax) * (height - top - bottom);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  out.push(`<text x="${left}" y="22" font-size="15" font-weight="bold">${escapeXml(title)}</text>`);
  for (let y = 0; y <= yMax; y += yMax > 50 ? 10 : 5) {
    out.push(
      `<line x1="${left}" y1="${py(y).toFixed(1)}" x2="${width - right}" y2="${py(y).toFixed(1)}" stroke="#e5e5e5"/>`,
      `<text x="${left - 8}" y="${(py(y) + 4).toFixed(1)}" text-anchor="end">${y}%</text>`,
    );
  }
  for (const x of [...new Set(xs)].sort((a, b) => a - b)) {
    out.push(
      `<line x1="${px(x).toFixed(1)}" y1="${top}" x2="${px(x).toFixed(1)}" y2="${height - bottom}" stroke="#f0f0f0"/>`,
      `<text x="${px(x).toFixed(1)}" y="${height - bottom + 18}" text-anchor="middle">${x}</text>`,
    );
  }
  out.push(
    `<text x="${(left + width - right) / 2}" y="${height - 10}" text-anchor="middle">capacity (entries, log scale)</text>`,
    `<text transform="translate(16 ${(top + height - bottom) / 2}) rotate(-90)" text-anchor="middle">hit ratio</text>`,
  );
  series.forEach((s, i) => {
    const path = s.points.map(([x, y], j) => `${j === 0 ? 'M' : 'L'}${px(x).toFixed(1)} ${py(y).toFixed(1)}`);
    out.push(
      `<path d="${path.join(' ')}" fill="none" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`,
    );
    for (const [x, y] of s.points)
      out.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="2.5" fill="${s.color}"/>`);
    const ly = top + 10 + i * 20;
    out.push(
      `<line x1="${width - right + 15}" y1="${ly}" x2="${width - right + 40}" y2="${ly}" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`,
      `<text x="${width - right + 46}" y="${ly + 4}">${escapeXml(s.name)}</text>`,
    );
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

const reference = loadTraceReference();
const only = process.env.HIT_RATIO_TRACES?.split(',');
const xz = hasXz();
let failures = 0;
const belowTransitory: string[] = [];
const belowBoundedTransitory: string[] = [];
const peerAboveOpt: string[] = [];
let rows = 0;
let atLeastArc = 0;
console.log(
  '| trace | capacity | LRU ref | ARC | OPT | ' +
    LINES.map((l) => l.name).join(' | ') +
    ' | transitory | transitory (≤ maxSize) | W-TinyLFU vs ARC |',
);
console.log(`|---|---:|---:|---:|---:|${LINES.map(() => '---:|').join('')}---:|---:|---:|`);
for (const [file, ref] of Object.entries(reference)) {
  if (only !== undefined && !only.some((name) => file.includes(name))) continue;
  if (file.endsWith('.xz') && !xz) {
    console.log(`| ${file} | skipped: the \`xz\` CLI is not installed | | | | |`);
    continue;
  }
  const keys = traceKeys(readTrace(file));
  const hits = LINES.map(() => [] as number[]);
  for (const row of ref.rows) {
    const cells = LINES.map((line, i) => {
      const h = replay(keys, row.size, line.options);
      hits[i]?.push(h);
      if (h > row.OPT) {
        failures++;
        return `${h} (> OPT!)`;
      }
      if (line.name === 'LRU' && h !== row.LRU) {
        failures++;
        return `${h} (≠ ref!)`;
      }
      return String(h);
    });
    const peer = replayTransitory(keys, row.size, false);
    const boundedPeer = replayTransitory(keys, row.size, true);
    if (peer > row.OPT) peerAboveOpt.push(`${file}@${row.size}: ${peer} > OPT ${row.OPT}`);
    const tiny = hits[LINES.length - 1]?.at(-1) as number;
    if (tiny < peer) belowTransitory.push(`${file}@${row.size}: ${tiny} < ${peer}`);
    if (tiny < boundedPeer) belowBoundedTransitory.push(`${file}@${row.size}: ${tiny} < ${boundedPeer}`);
    rows++;
    if (tiny >= row.ARC) atLeastArc++;
    const delta = (((tiny - row.ARC) / ref.accesses) * 100).toFixed(2);
    console.log(
      `| ${file} | ${row.size} | ${row.LRU} | ${row.ARC} | ${row.OPT} | ${cells.join(' | ')} | ${peer} | ${boundedPeer} | ${tiny >= row.ARC ? '≥' : '<'} (${delta} pp) |`,
    );
  }
  const pct = (h: number) => (100 * h) / ref.accesses;
  const series: Series[] = [
    ...LINES.map((line, i) => ({
      name: line.name,
      color: line.color,
      points: ref.rows.map((row, j) => [row.size, pct(hits[i]?.[j] as number)] as const),
    })),
    {
      name: 'ARC (ref)',
      color: '#ff7f0e',
      dash: '6 4',
      points: ref.rows.map((r) => [r.size, pct(r.ARC)] as const),
    },
    {
      name: 'OPT (ref)',
      color: '#444444',
      dash: '2 3',
      points: ref.rows.map((r) => [r.size, pct(r.OPT)] as const),
    },
  ];
  const name = file.replace(/\.(trace|trc)\..*$/, '');
  writeFileSync(join(RESULTS, `${name}.svg`), chart(`${name}: hit ratio vs capacity`, series));
}
console.log(
  `\nW-TinyLFU >= ARC in ${atLeastArc} of ${rows} rows; >= transitory in ${rows - belowTransitory.length} of ${rows} ` +
    `(held to maxSize: ${rows - belowBoundedTransitory.length} of ${rows})`,
);
for (const [label, below] of [
  ['transitory', belowTransitory],
  ['transitory held to maxSize', belowBoundedTransitory],
] as const) {
  console.log(
    below.length === 0
      ? `\nW-TinyLFU >= ${label} at every trace and capacity`
      : `\nW-TinyLFU below ${label}: ${below.join('; ')}`,
  );
}
// A peer above OPT is not a replay error (OPT is for `capacity` entries; transitory as shipped
// holds more between maintenance passes), so it is reported, not failed.
if (peerAboveOpt.length > 0) console.log(`\ntransitory (as shipped) above OPT: ${peerAboveOpt.join('; ')}`);
if (failures > 0) {
  console.error(
    `\n${failures} replay check(s) failed: LRU must equal the reference and no policy may beat OPT`,
  );
  process.exitCode = 1;
}
