// Export of history items (a selection, a search, a batch) to a folder: one file per item in the
// chosen format with its parameters embedded, named by a template, plus manifest.json/.csv and,
// when asked, one zip. Existing files are never replaced unless `overwrite` is set: a taken name
// gets a -2, -3… suffix.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Generation, Store } from '../store';
import { formatA1111 } from '../engine';
import type { EmbeddedText, ExportFormat } from './encode';
import { embeddedTextOf, encodeForExport, EXTENSION } from './encode';
import { firstFreeName, nameKey, writeFileAtomicAsync } from './files';
import { fsyncDirectory } from '../fs/durable';
import type { ManifestItem } from './manifest';
import { makeManifest, writeManifest } from './manifest';
import { joinInside } from './sanitize';
import { DEFAULT_TEMPLATE, expandTemplate } from './template';
import { writeZip } from './zip';

export interface ExportOptions {
  outDir: string;
  format: ExportFormat;
  template?: string;
  quality?: number;
  /** Also write one zip of the files and manifests; a path, or true for <outDir>/atelier-export-<date>.zip. */
  zip?: boolean | string;
  overwrite?: boolean;
  software?: string;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number, file: string | null) => void;
}

export interface ExportResult {
  items: ManifestItem[];
  manifest: { json: string; csv: string };
  zip: string | null;
}

/** A1111 text for an item whose image carries none (imported, or made before metadata existed). */
function textFromRecord(g: Generation): EmbeddedText {
  const p = g.params;
  const size = p.width && p.height ? `${p.width}x${p.height}` : '';
  const params: Record<string, string> = {
    Steps: p.steps === undefined ? '' : String(p.steps),
    Sampler: typeof p.sampler === 'string' ? p.sampler : '',
    'CFG scale': p.cfg === undefined ? '' : String(p.cfg),
    Seed: String(g.seed),
    Size: size,
    'Model hash': g.modelHash ? g.modelHash.slice(0, 10) : '',
    Model: g.modelName,
  };
  const meta = p['metadata'];
  return {
    parameters: formatA1111({ prompt: g.prompt, negativePrompt: g.negativePrompt, params }),
    atelier: meta && typeof meta === 'object' && (meta as { app?: unknown }).app === 'atelier' ? JSON.stringify(meta) : null,
  };
}

export async function exportGenerations(store: Store, generations: Generation[], options: ExportOptions): Promise<ExportResult> {
  const outDir = path.resolve(options.outDir);
  fs.mkdirSync(outDir, { recursive: true });
  const template = options.template ?? DEFAULT_TEMPLATE;
  const reserved = new Set<string>();
  const items: ManifestItem[] = [];
  const folders = new Set<string>();
  const date = new Date();
  for (const [i, g] of generations.entries()) {
    options.signal?.throwIfAborted();
    const output = g.assets.find((a) => a.role === 'output');
    const base: Omit<ManifestItem, 'status' | 'file' | 'sha256' | 'bytes' | 'format' | 'width' | 'height' | 'error'> = {
      index: i + 1,
      prompt: g.prompt,
      seed: g.seed,
      steps: typeof g.params.steps === 'number' ? g.params.steps : null,
      cfg: typeof g.params.cfg === 'number' ? g.params.cfg : null,
      model: g.modelName,
      mode: g.kind,
      loras: null,
      generationId: g.id,
    };
    try {
      if (!output) throw new Error('this history item has no image');
      const source = new Uint8Array(store.assets.read(output.asset.sha256));
      let text = output.asset.mime === 'image/png' ? embeddedTextOf(source) : { parameters: null, atelier: null };
      if (text.parameters === null) text = textFromRecord(g);
      const encoded = await encodeForExport(source, options.format, text, { quality: options.quality, software: options.software });
      const wanted = expandTemplate(template, {
        index: i + 1,
        count: generations.length,
        seed: g.seed,
        prompt: g.prompt,
        date: new Date(g.createdAt),
        model: g.modelName,
        steps: base.steps ?? undefined,
        cfg: base.cfg ?? undefined,
      }, EXTENSION[options.format]);
      const name = firstFreeName(wanted, (c) => reserved.has(nameKey(c)) || (!options.overwrite && fs.existsSync(joinInside(outDir, c))));
      reserved.add(nameKey(name));
      const file = joinInside(outDir, name);
      // Off the main thread (the studio's core runs exports); each folder is fsync'd once at the end.
      await writeFileAtomicAsync(file, encoded.bytes, { syncDir: false });
      folders.add(path.dirname(file));
      items.push({
        ...base,
        status: 'done',
        file: name,
        sha256: createHash('sha256').update(encoded.bytes).digest('hex'),
        bytes: encoded.bytes.byteLength,
        format: options.format,
        width: encoded.width,
        height: encoded.height,
        error: null,
      });
      options.onProgress?.(i + 1, generations.length, name);
    } catch (e) {
      if (options.signal?.aborted) throw e;
      items.push({ ...base, status: 'failed', file: null, sha256: null, bytes: null, format: null, width: null, height: null, error: (e as Error).message });
      options.onProgress?.(i + 1, generations.length, null);
    }
  }
  for (const dir of folders) fsyncDirectory(dir);
  const manifest = writeManifest(outDir, makeManifest('export', items));
  let zip: string | null = null;
  if (options.zip) {
    zip = typeof options.zip === 'string' ? path.resolve(options.zip) : path.join(outDir, `atelier-export-${date.toISOString().slice(0, 19).replace(/[:T]/g, '-')}.zip`);
    if (!options.overwrite && fs.existsSync(zip)) zip = path.join(path.dirname(zip), firstFreeName(path.basename(zip), (c) => fs.existsSync(path.join(path.dirname(zip!), c))));
    writeZip(zip, [
      ...items.filter((it) => it.file).map((it) => ({ name: it.file!, file: joinInside(outDir, it.file!) })),
      { name: path.basename(manifest.json), file: manifest.json, deflate: true },
      { name: path.basename(manifest.csv), file: manifest.csv, deflate: true },
    ]);
  }
  return { items, manifest, zip };
}

/** The history items of a batch run with recordInHistory, in row order. */
export function batchGenerations(store: Store, batchId: string): Generation[] {
  const out: Generation[] = [];
  for (const row of store.batches.rows(batchId, 'done')) {
    if (!row.generationId) continue;
    const g = store.generations.get(row.generationId);
    if (g) out.push(g);
  }
  return out;
}
