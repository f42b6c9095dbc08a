// The manifest written beside exported files: manifest.json (full detail) and manifest.csv (one row
// per item, for spreadsheets). Both list every item with its file, sha256 and parameters; failed
// batch rows are listed with their error and no file.
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from './files';

export const MANIFEST_JSON = 'manifest.json';
export const MANIFEST_CSV = 'manifest.csv';

export interface ManifestItem {
  /** 1-based position in the batch or selection. */
  index: number;
  status: 'done' | 'failed' | 'pending';
  /** Relative to the manifest's folder, forward slashes; null when there is no file. */
  file: string | null;
  sha256: string | null;
  bytes: number | null;
  format: string | null;
  width: number | null;
  height: number | null;
  prompt: string;
  seed: number | null;
  steps: number | null;
  cfg: number | null;
  model: string | null;
  mode: string | null;
  /** LoRAs the row named, as "name:weight; …" (recorded; applied once LoRA support lands). */
  loras: string | null;
  /** History item the image came from, if any. */
  generationId: string | null;
  error: string | null;
}

export interface Manifest {
  app: 'atelier';
  kind: 'batch' | 'export';
  /** The batch id, for batches. */
  batchId: string | null;
  createdAt: string;
  source: string | null;
  counts: { total: number; done: number; failed: number; pending: number };
  items: ManifestItem[];
}

const CSV_COLUMNS: (keyof ManifestItem)[] = ['index', 'status', 'file', 'sha256', 'bytes', 'format', 'width', 'height', 'prompt', 'seed', 'steps', 'cfg', 'model', 'mode', 'loras', 'generationId', 'error'];

export function csvField(value: unknown): string {
  const s = value === null || value === undefined ? '' : String(value);
  // Quote what needs it; a leading = + - @ would be read as a formula by spreadsheets, so it is
  // quoted and prefixed with an apostrophe (the usual guard against CSV injection).
  const guarded = /^[=+\-@\t\r]/.test(s) && !/^-?\d/.test(s) ? `'${s}` : s;
  return /[",\r\n]/.test(guarded) || guarded !== s ? `"${guarded.replace(/"/g, '""')}"` : guarded;
}

export function manifestCsv(items: ManifestItem[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const item of items) lines.push(CSV_COLUMNS.map((c) => csvField(item[c])).join(','));
  return lines.join('\r\n') + '\r\n';
}

export function makeManifest(kind: Manifest['kind'], items: ManifestItem[], extra: { batchId?: string | null; source?: string | null } = {}): Manifest {
  const count = (s: ManifestItem['status']) => items.filter((i) => i.status === s).length;
  return {
    app: 'atelier',
    kind,
    batchId: extra.batchId ?? null,
    createdAt: new Date().toISOString(),
    source: extra.source ?? null,
    counts: { total: items.length, done: count('done'), failed: count('failed'), pending: count('pending') },
    items,
  };
}

/** True if `file` is missing or an Atelier manifest (ours to replace). */
function replaceable(file: string): boolean {
  if (!fs.existsSync(file)) return true;
  if (file.endsWith('.csv')) {
    try {
      return fs.readFileSync(file, 'utf8').startsWith(CSV_COLUMNS.join(','));
    } catch {
      return false;
    }
  }
  try {
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as { app?: string }).app === 'atelier';
  } catch {
    return false;
  }
}

/**
 * Writes manifest.json and manifest.csv in `dir` (atomically). A foreign file of that name is never
 * replaced: the manifest then goes to atelier-manifest.json/.csv. Returns the paths written.
 */
export function writeManifest(dir: string, manifest: Manifest): { json: string; csv: string } {
  let json = path.join(dir, MANIFEST_JSON);
  let csv = path.join(dir, MANIFEST_CSV);
  if (!replaceable(json) || !replaceable(csv)) {
    json = path.join(dir, `atelier-${MANIFEST_JSON}`);
    csv = path.join(dir, `atelier-${MANIFEST_CSV}`);
  }
  writeFileAtomic(json, JSON.stringify(manifest, null, 2) + '\n');
  writeFileAtomic(csv, manifestCsv(manifest.items));
  return { json, csv };
}
