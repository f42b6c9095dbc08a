// Running a batch: the pending rows in order, one image each. While row i is being saved (encode,
// temp file, fsync, rename, then the row's commit), row i+1 is already being generated, so saving
// costs the engine almost nothing. A row is done only once its file is in place and the row is
// committed; kill the process at any moment and a re-run does the rest with no duplicate and no
// half-written file. A row that fails is recorded with its reason and the batch goes on.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { BatchJob, BatchRow, RowResult, Store } from '../store';
import { fsyncDirectory } from '../fs/durable';
import type { EmbeddedText, ExportFormat } from '../export/encode';
import { embeddedTextOf, encodeForExport, MIME } from '../export/encode';
import { removeStaleTempFiles, writeFileAtomicAsync } from '../export/files';
import type { Manifest, ManifestItem } from '../export/manifest';
import { makeManifest, MANIFEST_CSV, MANIFEST_JSON, writeManifest } from '../export/manifest';
import { joinInside } from '../export/sanitize';
import { writeZip } from '../export/zip';
import type { BatchOptions, PlannedRow } from './plan';

/** One generated image, as the runner needs it. */
export interface RowImage {
  /** The engine's PNG, with its `parameters` and `atelier` chunks. */
  png: Uint8Array;
  width: number;
  height: number;
  seed: number;
  model: { name: string; hash: string | null };
  /** Engine's own time for this image (ms), for the overhead figure. */
  engineMs?: number;
  metadata?: unknown;
  warnings?: string[];
}

export type RowGenerator = (row: PlannedRow, signal: AbortSignal) => Promise<RowImage>;

export type BatchEvent =
  | { type: 'start'; batch: BatchJob; pending: number }
  | {
      type: 'row';
      row: BatchRow;
      done: number;
      failed: number;
      total: number;
      /** Rows handled by this run (the rate and ETA are based on these). */
      handledThisRun: number;
      elapsedMs: number;
      etaMs: number | null;
      engineMs?: number;
    }
  | { type: 'end'; batch: BatchJob; manifest: { json: string; csv: string } | null; zip: string | null; elapsedMs: number; engineMs: number; imagesThisRun: number };

export interface RunBatchOptions {
  store: Store;
  batchId: string;
  generate: RowGenerator;
  signal?: AbortSignal;
  onEvent?: (event: BatchEvent) => void;
  /** Also put each image in the history; returns the generation id. */
  recordInHistory?: boolean;
  /** EXIF Software tag for JPEG/WebP. */
  software?: string;
}

export class BatchBusyError extends Error {}

function optionsOf(batch: BatchJob): BatchOptions {
  return batch.params as unknown as BatchOptions;
}

/** The manifest of a batch as it stands (every row, done or not). */
export function batchManifest(store: Store, batch: BatchJob): Manifest {
  const format = optionsOf(batch).format;
  const items: ManifestItem[] = store.batches.rows(batch.id).map((r) => {
    const p = r.params as Partial<PlannedRow>;
    const done = r.status === 'done';
    return {
      index: r.index,
      status: done ? 'done' : r.status === 'failed' ? 'failed' : 'pending',
      file: done ? r.outputPath : null,
      sha256: done ? r.sha256 : null,
      bytes: done ? r.bytes : null,
      format: done && r.outputPath ? format : null,
      width: r.width,
      height: r.height,
      prompt: p.prompt ?? '',
      seed: p.seed ?? null,
      steps: p.steps ?? null,
      cfg: p.cfg ?? null,
      model: p.modelName ?? p.model ?? null,
      mode: p.image ? 'edit' : 'text-to-image',
      loras: p.loras?.length ? p.loras.map((l) => `${l.name}:${l.weight}`).join('; ') : null,
      generationId: r.generationId,
      error: r.error,
    };
  });
  return makeManifest('batch', items, { batchId: batch.id, source: batch.source });
}

const COMMIT_EVERY_MS = 250;

function pickResult(written: { index: number; result: RowResult }[], index: number): Partial<BatchRow> {
  const r = written.find((w) => w.index === index)?.result;
  return r ? { sha256: r.sha256, bytes: r.bytes, width: r.width, height: r.height, generationId: r.generationId ?? null } : {};
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Writes manifest.json/.csv (and the zip when asked) for a batch with an output folder. */
export function finishOutputs(store: Store, batch: BatchJob): { manifest: { json: string; csv: string } | null; zip: string | null } {
  if (!batch.outDir) return { manifest: null, zip: null };
  fs.mkdirSync(batch.outDir, { recursive: true });
  const manifest = batchManifest(store, batch);
  const written = writeManifest(batch.outDir, manifest);
  let zip: string | null = null;
  if (optionsOf(batch).zip && batch.status === 'done') {
    const zipName = (batch.params as { zipName?: string }).zipName ?? `${path.basename(batch.outDir) || 'batch'}.zip`;
    zip = joinInside(batch.outDir, zipName);
    const files = manifest.items.filter((i) => i.file !== null);
    writeZip(zip, [
      ...files.map((i) => ({ name: i.file!, file: joinInside(batch.outDir!, i.file!) })),
      { name: path.basename(written.json) || MANIFEST_JSON, file: written.json, deflate: true },
      { name: path.basename(written.csv) || MANIFEST_CSV, file: written.csv, deflate: true },
    ]);
  }
  return { manifest: written, zip };
}

/**
 * Done rows whose file is gone or has another size go back to pending (a re-run makes them again
 * under the same name). Returns how many. For batches that write files only (the CLI): rows that
 * also made history items would make a second one.
 */
export function reopenMissingFiles(store: Store, batch: BatchJob): number {
  if (!batch.outDir) return 0;
  const missing = store.batches.rows(batch.id, 'done').filter((r) => {
    if (!r.outputPath) return false;
    try {
      return fs.statSync(joinInside(batch.outDir!, r.outputPath)).size !== r.bytes;
    } catch {
      return true;
    }
  });
  store.batches.reopen(batch.id, missing.map((r) => r.index));
  return missing.length;
}

export async function runBatch(opts: RunBatchOptions): Promise<BatchJob> {
  const { store, batchId } = opts;
  const signal = opts.signal ?? new AbortController().signal;
  const batch = store.batches.get(batchId);
  if (!batch) throw new Error(`no batch ${batchId}`);
  const token = store.batches.claim(batchId);
  if (!token) throw new BatchBusyError(`batch ${batchId} is being run by another process (${batch.runner}); wait for it or stop it first`);
  const options = optionsOf(batch);
  const format: ExportFormat = options.format;
  const started = performance.now();
  let engineMs = 0;
  let imagesThisRun = 0;
  let finalStatus: 'done' | 'cancelled' | 'failed' = 'done';
  let finalError: string | null = null;
  try {
    if (batch.outDir) {
      fs.mkdirSync(batch.outDir, { recursive: true });
      removeStaleTempFiles(batch.outDir);
    }
    const pending = store.batches.rows(batchId).filter((r) => r.status === 'pending' || r.status === 'running');
    const total = batch.total;
    const counts = store.batches.counts(batchId);
    let done = counts.done;
    let failed = counts.failed;
    opts.onEvent?.({ type: 'start', batch: store.batches.get(batchId)!, pending: pending.length });

    type Outcome = { ok: true; image: RowImage; ms: number } | { ok: false; error: unknown };
    const startRow = (row: BatchRow): Promise<Outcome> => {
      const t = performance.now();
      const params = row.params as unknown as PlannedRow;
      // Rows that name no model use the batch's.
      const planned = params.model === undefined && options.model !== undefined ? { ...params, model: options.model } : params;
      return opts.generate(planned, signal).then(
        (image) => ({ ok: true as const, image, ms: performance.now() - t }),
        (error: unknown) => ({ ok: false as const, error }),
      );
    };

    // Rows whose files are renamed into place but not yet recorded. They are committed together (the
    // folders fsync'd first, then one transaction) every COMMIT_EVERY_MS and at the end: a commit
    // per image would cost more than a small image takes to make. A crash before the commit only
    // means those rows are made again, into the same names.
    const written: { index: number; result: RowResult }[] = [];
    const renamedIn = new Set<string>();
    let lastCommit = performance.now();
    const commitWritten = (): void => {
      for (const dir of renamedIn) fsyncDirectory(dir);
      renamedIn.clear();
      store.batches.completeMany(batchId, written.splice(0));
      lastCommit = performance.now();
    };

    const record = (row: BatchRow, image: RowImage): string => {
      const p = row.params as unknown as PlannedRow;
      return store.generations.create({
        kind: p.image ? 'edit' : 't2i',
        prompt: p.prompt,
        seed: image.seed,
        modelName: image.model.name,
        modelHash: image.model.hash,
        params: { steps: p.steps, cfg: p.cfg, width: image.width, height: image.height, batchId, batchRow: row.index, ...(image.metadata === undefined ? {} : { metadata: image.metadata }) },
        images: [{ role: 'output', data: image.png, width: image.width, height: image.height, mime: MIME.png }],
      }).id;
    };

    const save = async (row: BatchRow, image: RowImage): Promise<void> => {
      let bytes = image.png;
      let width = image.width;
      let height = image.height;
      if (batch.outDir) {
        if (!row.outputPath) throw new Error(`row ${row.index} has no output file name`);
        const file = joinInside(batch.outDir, row.outputPath);
        if (format !== 'png') {
          const text: EmbeddedText = embeddedTextOf(image.png);
          const encoded = await encodeForExport(image.png, format, text, { quality: options.quality, software: opts.software });
          ({ bytes, width, height } = encoded);
        }
        await writeFileAtomicAsync(file, bytes, { syncDir: false });
        renamedIn.add(path.dirname(file));
      }
      let generationId: string | null = null;
      if (opts.recordInHistory) {
        try {
          generationId = record(row, image);
        } catch (e) {
          // The row fails; its file must not stay behind without a manifest entry.
          if (batch.outDir && row.outputPath) fs.rmSync(joinInside(batch.outDir, row.outputPath), { force: true });
          throw e;
        }
      }
      written.push({ index: row.index, result: { sha256: sha256(bytes), bytes: bytes.byteLength, width, height, generationId } });
      if (performance.now() - lastCommit >= COMMIT_EVERY_MS) commitWritten();
    };

    let next: Promise<Outcome> | null = null;
    try {
      next = pending.length ? startRow(pending[0]!) : null;
      for (let i = 0; i < pending.length; i++) {
        const row = pending[i]!;
        const outcome = await next!;
        next = null;
        // Cancelled: an image that was finished is still saved; one the cancel cut short is not a failure.
        if (signal.aborted && !outcome.ok) {
          finalStatus = 'cancelled';
          break;
        }
        // Start the next image before saving this one.
        if (i + 1 < pending.length && !signal.aborted) next = startRow(pending[i + 1]!);
        let error: string | null = null;
        if (outcome.ok) {
          try {
            await save(row, outcome.image);
            engineMs += outcome.image.engineMs ?? outcome.ms;
            imagesThisRun++;
          } catch (e) {
            error = `could not save the image: ${(e as Error).message}`;
          }
        } else {
          error = outcome.error instanceof Error ? outcome.error.message : String(outcome.error);
        }
        if (error !== null) {
          store.batches.fail(batchId, row.index, error);
          failed++;
        } else done++;
        const elapsedMs = performance.now() - started;
        const remaining = total - done - failed;
        const perRow = imagesThisRun ? elapsedMs / (i + 1) : null;
        const current = store.batches.row(batchId, row.index)!;
        opts.onEvent?.({
          type: 'row',
          // Written rows may wait for the next commit: report them as done now.
          row: error === null ? { ...current, status: 'done', ...pickResult(written, row.index) } : current,
          done,
          failed,
          total,
          handledThisRun: i + 1,
          elapsedMs,
          etaMs: perRow === null ? null : perRow * remaining,
          engineMs: outcome.ok ? (outcome.image.engineMs ?? outcome.ms) : undefined,
        });
        if (signal.aborted) {
          finalStatus = 'cancelled';
          break;
        }
      }
    } finally {
      if (next) await next; // stopped early: let the image in flight finish before the engine is released
      commitWritten();
    }
    if (signal.aborted) finalStatus = 'cancelled';
  } catch (e) {
    finalStatus = 'failed';
    finalError = (e as Error).message;
    throw e;
  } finally {
    store.batches.release(batchId, token, finalStatus, finalError);
  }
  const after = store.batches.get(batchId)!;
  const outputs = finishOutputs(store, after);
  opts.onEvent?.({ type: 'end', batch: after, ...outputs, elapsedMs: performance.now() - started, engineMs, imagesThisRun });
  return after;
}
