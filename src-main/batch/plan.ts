// Making a batch: the list is parsed, every row's seed fixed and its output file name chosen up
// front (all in one transaction), so a resumed batch writes exactly the files it planned — a file
// found under a planned name later is this batch's own, and nothing is ever written twice under
// two names.
import { createHash, randomInt } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { BatchJob, Store } from '../store';
import type { ExportFormat } from '../export/encode';
import { EXTENSION } from '../export/encode';
import { firstFreeName, nameKey } from '../export/files';
import { joinInside } from '../export/sanitize';
import { checkTemplate, DEFAULT_TEMPLATE, expandTemplate } from '../export/template';
import type { ListFormat, ParsedList } from './parse';
import { parsePromptList } from './parse';
import type { BatchRowParams } from './rows';

/** Batch-wide options, stored with the batch (its `params`). */
export interface BatchOptions {
  /** Where files go; null for a batch that only fills the history (studio). */
  outDir: string | null;
  format: ExportFormat;
  template: string;
  /** JPEG/WebP quality. */
  quality?: number;
  /** Defaults for rows that leave them out. */
  steps?: number;
  cfg?: number;
  /** Row i without a seed gets seed + i - 1 (a random base when not given). */
  seed?: number;
  /** The model rows without a `model` use (a bundle folder or a model name). */
  model?: string;
  /** One zip of the files and manifests when the batch ends. */
  zip?: boolean;
  /** Replace files already in the output folder instead of choosing a free name. */
  overwrite?: boolean;
}

/** What a batch row carries once planned (stored as the row's params). */
export interface PlannedRow extends BatchRowParams {
  seed: number;
  /** The display name of the model the row uses (manifest, {model}). */
  modelName?: string;
}

export interface CreateBatchInput {
  /** The prompt list's text and name (the name picks the format unless `listFormat` is given). */
  text: string;
  fileName: string;
  /** Folder relative image paths in the list are resolved against. */
  baseDir: string;
  listFormat?: ListFormat;
  options: BatchOptions;
  /** The display name of the model a row will use ({model} in templates). */
  modelNameOf: (model: string | undefined) => string;
}

export interface CreatedBatch {
  batch: BatchJob;
  list: ParsedList;
}

/** Same list, options and output folder → same key: a re-run finds the batch it should resume. */
export function resumeKey(text: string, options: BatchOptions): string {
  const { overwrite: _overwrite, zip: _zip, ...identity } = options;
  const canonical = JSON.stringify({
    list: createHash('sha256').update(text).digest('hex'),
    ...identity,
    outDir: options.outDir === null ? null : path.resolve(options.outDir),
  });
  return createHash('sha256').update(canonical).digest('hex');
}

export function createBatch(store: Store, input: CreateBatchInput): CreatedBatch {
  const { options } = input;
  checkTemplate(options.template || DEFAULT_TEMPLATE);
  const list = parsePromptList(input.text, { fileName: input.fileName, baseDir: input.baseDir, format: input.listFormat });
  const base = options.seed ?? randomInt(0, 2 ** 31);
  const createdAt = new Date();
  const outDir = options.outDir === null ? null : path.resolve(options.outDir);
  const reserved = new Set<string>();
  const rows = list.rows.map((row, i) => {
    if (!row.params) return { line: row.line, params: {}, error: row.errors.join('; ') };
    const params: PlannedRow = { ...row.params, seed: row.params.seed ?? (base + i) % 2 ** 32 };
    if (params.steps === undefined && options.steps !== undefined) params.steps = options.steps;
    if (params.cfg === undefined && options.cfg !== undefined) params.cfg = options.cfg;
    params.modelName = input.modelNameOf(params.model ?? options.model);
    let outputPath: string | undefined;
    if (outDir !== null) {
      const wanted = expandTemplate(options.template || DEFAULT_TEMPLATE, {
        index: i + 1,
        count: list.rows.length,
        seed: params.seed,
        prompt: params.prompt,
        date: createdAt,
        model: params.modelName,
        steps: params.steps,
        cfg: params.cfg,
      }, EXTENSION[options.format]);
      outputPath = firstFreeName(wanted, (candidate) => reserved.has(nameKey(candidate)) || (!options.overwrite && fs.existsSync(joinInside(outDir, candidate))));
      reserved.add(nameKey(outputPath));
    }
    return { line: row.line, params: params as unknown as Record<string, unknown>, outputPath };
  });
  // The zip's name is chosen now too, so it never replaces a file that was there before the batch.
  const zipName =
    outDir !== null && options.zip
      ? firstFreeName(`${path.basename(outDir) || 'batch'}.zip`, (c) => reserved.has(nameKey(c)) || (!options.overwrite && fs.existsSync(joinInside(outDir, c))))
      : null;
  const batch = store.batches.create({
    source: path.basename(input.fileName),
    outDir,
    resumeKey: resumeKey(input.text, options),
    params: { ...options, outDir, seed: base, listFormat: list.format, warnings: list.warnings, ...(zipName ? { zipName } : {}) },
    rows,
    createdAt: createdAt.getTime(),
  });
  return { batch, list };
}
