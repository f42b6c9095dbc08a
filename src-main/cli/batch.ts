// `atelier batch LIST --out DIR`: a prompt list (txt, csv, tsv, jsonl) to one image per row.
// The batch lives in the data folder's SQLite store, so running the same command again resumes an
// interrupted batch (kill -9 included) and does nothing for a finished one unless --force.
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { BatchEvent } from '../batch/runner';
import { BatchBusyError, finishOutputs, reopenMissingFiles, runBatch } from '../batch/runner';
import { createBatch, resumeKey } from '../batch/plan';
import type { BatchOptions } from '../batch/plan';
import { engineGenerator, modelDisplayName, resolveModel } from '../batch/generator';
import type { ListFormat } from '../batch/parse';
import { LIST_FORMATS, PromptListError } from '../batch/parse';
import { isExecutionProvider, ENGINE_VERSION } from '../engine';
import { EXPORT_FORMATS, isExportFormat } from '../export/encode';
import { DEFAULT_TEMPLATE, TemplateError, checkTemplate } from '../export/template';
import { openStore } from '../store';
import { findInstalledLora } from '../api/loras';
import { UsageError } from './index';

export const BATCH_USAGE = `usage: atelier batch LIST --out DIR [options]

LIST is a text file (one prompt per line; # starts a comment), a CSV/TSV with a header row
(columns: prompt, seed, steps, cfg, size, model, loras, image, instruction, strength, sampler)
or JSONL (one {"prompt": …} object per line).

options:
  --out DIR         output folder (created if missing)
  --format F        png (default), jpeg or webp; parameters are embedded in every file
  --template T      file names, default "${DEFAULT_TEMPLATE}"; placeholders {index} {seed}
                    {prompt-slug} {date} {model} {steps} {cfg}; "/" makes sub-folders
  --zip             also write one zip of the files and manifests (DIR/<DIR name>.zip)
  --force           run a finished batch again (same files, replaced)
  --overwrite       replace files already in DIR instead of choosing a free name (name-2.png)
  --seed N          base seed: row i without a seed uses N + i - 1 (default: random)
  --steps N  --cfg X  defaults for rows that leave them out
  --quality N       JPEG/WebP quality 1-100
  --model DIR       model bundle (default: resources/models/atelier-nano)
  --list-format F   txt, csv, tsv or jsonl (default: from the file's extension)
  --data DIR        where the batch state is kept (default: the studio's data folder)
  --ep NAME  --threads N  execution provider and CPU threads
  --quiet           no progress bar`;

const OPTIONS = {
  out: { type: 'string', short: 'o' },
  format: { type: 'string' },
  template: { type: 'string' },
  zip: { type: 'boolean' },
  force: { type: 'boolean' },
  overwrite: { type: 'boolean' },
  seed: { type: 'string' },
  steps: { type: 'string' },
  cfg: { type: 'string' },
  quality: { type: 'string' },
  model: { type: 'string' },
  'list-format': { type: 'string' },
  data: { type: 'string' },
  ep: { type: 'string' },
  threads: { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export class BatchUsageError extends UsageError {}

function num(raw: string | undefined, flag: string, opts: { integer?: boolean; min: number; max: number }): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || (opts.integer && !Number.isInteger(n)) || n < opts.min || n > opts.max) {
    throw new BatchUsageError(`--${flag} must be ${opts.integer ? 'a whole number' : 'a number'} from ${opts.min} to ${opts.max} (got '${raw}')`);
  }
  return n;
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/** Rows done, failed, images per minute and ETA on one redrawn line (TTY), or a line per row. */
export class BatchProgressBar {
  private readonly tty: boolean;
  private drawn = false;

  constructor(
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly width = 24,
  ) {
    this.tty = Boolean(out.isTTY);
  }

  row(e: Extract<BatchEvent, { type: 'row' }>): void {
    const finished = e.done + e.failed;
    const frac = e.total ? finished / e.total : 1;
    const filled = Math.round(frac * this.width);
    const rate = e.elapsedMs > 0 ? (e.handledThisRun / e.elapsedMs) * 60_000 : 0;
    const eta = e.etaMs === null ? '?' : formatDuration(e.etaMs);
    const failed = e.failed ? `  ${e.failed} failed` : '';
    const what = e.row.status === 'failed' ? `row ${e.row.index} failed: ${e.row.error}` : (e.row.outputPath ?? `row ${e.row.index}`);
    if (this.tty) {
      const bar = '█'.repeat(filled) + '░'.repeat(this.width - filled);
      this.out.write(`\r\x1b[2K${bar} ${finished}/${e.total}${failed}  ${Math.round(rate)}/min  ETA ${eta}  ${what.slice(0, 60)}`);
      this.drawn = true;
      if (e.row.status === 'failed') this.out.write('\n');
    } else {
      this.out.write(`[${finished}/${e.total}]${failed} ETA ${eta} ${Math.round(rate)}/min ${what}\n`);
    }
  }

  done(): void {
    if (this.tty && this.drawn) this.out.write('\n');
    this.drawn = false;
  }
}

export async function batchMain(argv: string[], log: (s: string) => void = (s) => process.stderr.write(s + '\n')): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  if (values.help) {
    log(BATCH_USAGE);
    return;
  }
  if (positionals.length !== 1) throw new BatchUsageError(`batch takes one prompt list (got ${positionals.length})`);
  const listFile = path.resolve(positionals[0]!);
  if (!existsSync(listFile) || !statSync(listFile).isFile()) throw new Error(`the prompt list '${positionals[0]}' does not exist`);
  if (!values.out) throw new BatchUsageError('batch needs --out DIR');
  const format = values.format ?? 'png';
  if (!isExportFormat(format)) throw new BatchUsageError(`--format must be one of ${EXPORT_FORMATS.join(', ')} (got '${format}')`);
  const listFormat = values['list-format'];
  if (listFormat !== undefined && !LIST_FORMATS.includes(listFormat as ListFormat)) {
    throw new BatchUsageError(`--list-format must be one of ${LIST_FORMATS.join(', ')} (got '${listFormat}')`);
  }
  const template = values.template ?? DEFAULT_TEMPLATE;
  try {
    checkTemplate(template);
  } catch (e) {
    if (e instanceof TemplateError) throw new BatchUsageError(e.message);
    throw e;
  }
  const ep = values.ep ?? 'auto';
  if (!isExecutionProvider(ep)) throw new BatchUsageError(`--ep must be one of auto, cpu, webgpu, cuda, dml, coreml (got '${ep}')`);
  const threads = num(values.threads, 'threads', { integer: true, min: 1, max: 256 });
  const outDir = path.resolve(values.out);
  const defaultModel = resolveModel(values.model); // fails early, with how to get the model
  const options: BatchOptions = {
    outDir,
    format,
    template,
    quality: num(values.quality, 'quality', { integer: true, min: 1, max: 100 }),
    steps: num(values.steps, 'steps', { integer: true, min: 1, max: 200 }),
    cfg: num(values.cfg, 'cfg', { min: 0, max: 30 }),
    seed: num(values.seed, 'seed', { integer: true, min: 0, max: 0xffff_ffff }),
    model: defaultModel,
    zip: values.zip ?? false,
    overwrite: values.overwrite ?? false,
  };
  for (const k of Object.keys(options) as (keyof BatchOptions)[]) if (options[k] === undefined) delete options[k];

  const text = readFileSync(listFile, 'utf8');
  const { defaultDataDir } = await import('../server/data-dir');
  const store = openStore({ dataDir: values.data ?? defaultDataDir() });
  const generator = engineGenerator({
    defaultModel, baseDir: path.dirname(listFile), executionProvider: ep, threads,
    installedLora: (name) => findInstalledLora(store, name), // LoRAs installed in the studio, by name
  });
  const ac = new AbortController();
  const onSigint = (): void => {
    log('\nstopping after the image in progress… (run the same command again to resume)');
    ac.abort(new Error('cancelled by the user'));
  };
  process.once('SIGINT', onSigint);
  const bar = values.quiet ? null : new BatchProgressBar();
  try {
    let batch = store.batches.findByKey(resumeKey(text, options));
    if (batch) {
      const reopened = values.force ? 0 : reopenMissingFiles(store, batch);
      if (reopened) log(`${reopened} finished file${reopened === 1 ? ' is' : 's are'} missing or changed in ${outDir}: making ${reopened === 1 ? 'it' : 'them'} again`);
      const counts = store.batches.counts(batch.id);
      const left = counts.pending + counts.running;
      if (left === 0 && !values.force) {
        finishOutputs(store, batch); // the manifest (and zip) stay in step with the files
        log(`batch already finished: ${counts.done} image${counts.done === 1 ? '' : 's'} in ${outDir}${counts.failed ? `, ${counts.failed} row${counts.failed === 1 ? '' : 's'} failed` : ''}. Nothing to do (--force runs it again).`);
        return;
      }
      if (values.force && left === 0) {
        store.batches.resetForRerun(batch.id);
        log(`running batch ${batch.id} again (--force): ${batch.total} rows`);
      } else log(`resuming batch ${batch.id}: ${counts.done} of ${batch.total} done, ${left} to go`);
    } else {
      let created;
      try {
        created = createBatch(store, {
          text,
          fileName: listFile,
          baseDir: path.dirname(listFile),
          listFormat: listFormat as ListFormat | undefined,
          options,
          modelNameOf: (m) => {
            try {
              return modelDisplayName(resolveModel(m, path.dirname(listFile)));
            } catch {
              return m ?? 'model';
            }
          },
        });
      } catch (e) {
        if (e instanceof PromptListError || e instanceof TemplateError) throw new BatchUsageError(`${path.basename(listFile)}: ${e.message}`);
        throw e;
      }
      batch = created.batch;
      for (const w of created.list.warnings) log(`warning: ${w}`);
      for (const r of created.list.rows) if (r.errors.length) log(`line ${r.line}: skipped: ${r.errors.join('; ')}`);
      log(`batch ${batch.id}: ${batch.total} rows from ${path.basename(listFile)} (${created.list.format}) → ${outDir}`);
    }
    const end = await runBatch({
      store,
      batchId: batch.id,
      generate: generator.generate,
      signal: ac.signal,
      software: `Atelier ${ENGINE_VERSION}`,
      onEvent: (e) => {
        if (e.type === 'row') {
          bar?.row(e);
        } else if (e.type === 'end') {
          bar?.done();
          const perMin = e.elapsedMs > 0 ? (e.imagesThisRun / e.elapsedMs) * 60_000 : 0;
          log(`${e.batch.done} of ${e.batch.total} done${e.batch.failed ? `, ${e.batch.failed} failed` : ''} in ${formatDuration(e.elapsedMs)} (${perMin.toFixed(1)} images/min)`);
          if (e.manifest) log(`manifest: ${e.manifest.json}`);
          if (e.zip) log(`zip: ${e.zip}`);
        }
      },
    });
    if (end.status === 'cancelled') throw new Error('batch stopped; run the same command again to resume');
    if (end.failed > 0) {
      for (const r of store.batches.rows(end.id, 'failed')) log(`line ${r.line} (row ${r.index}) failed: ${r.error}`);
      throw new Error(`${end.failed} of ${end.total} rows failed (listed above and in the manifest); the others are done`);
    }
  } catch (e) {
    if (e instanceof BatchBusyError) throw new Error(e.message);
    throw e;
  } finally {
    bar?.done();
    process.off('SIGINT', onSigint);
    await generator.dispose();
    store.close();
  }
}
