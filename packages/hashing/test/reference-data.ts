import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

// Reference vectors live beside the repository: <repo root>/../shared/data (the repo root is
// three levels above this directory, in CI too).
const DATA_DIR = resolve(import.meta.dirname, '..', '..', '..', '..', 'shared', 'data');

export interface SlotVector {
  readonly hex: string;
  readonly utf8?: string;
  readonly len: number;
  readonly slot: number;
  readonly category: string;
}

export interface KetamaVectors {
  readonly servers: readonly { readonly addr: string; readonly weight: number }[];
  readonly hashesPerServer: readonly number[];
  readonly pointsPerServer: readonly number[];
  readonly totalPoints: number;
  readonly first20Points: readonly {
    readonly point: number;
    readonly server: string;
    readonly pointKey: string;
    readonly alignment: number;
  }[];
  readonly keys: readonly {
    readonly key: string;
    readonly hash: number;
    readonly point: number;
    readonly server: string;
    readonly libketama: string;
    readonly libmemcachedKetamaSpy: string;
  }[];
}

export function loadSlotVectors(): {
  crc16Check: { input: string; crc16: string; slot: number };
  keys: SlotVector[];
} {
  return JSON.parse(readFileSync(resolve(DATA_DIR, 'crc16-slots.sample.json'), 'utf8'));
}

export function loadKetamaVectors(): KetamaVectors {
  return JSON.parse(readFileSync(resolve(DATA_DIR, 'ketama.sample.json'), 'utf8'));
}
