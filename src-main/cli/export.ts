// `atelier export --out DIR [selection] [options]`: history items to files with their parameters
// embedded, a manifest beside them and optionally one zip.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ENGINE_VERSION } from '../engine';
import { EXPORT_FORMATS, isExportFormat } from '../export/encode';
import { batchGenerations, exportGenerations } from '../export/history';
import { checkTemplate, DEFAULT_TEMPLATE, TemplateError } from '../export/template';
import type { Generation } from '../store';
import { openStore } from '../store';
import { UsageError } from './index';

export const EXPORT_USAGE = `usage: atelier export --out DIR (--all | --ids ID,ID… | --batch ID | --search TEXT | --favourites | --tag T) [options]

options:
  --format F       png (default), jpeg or webp; parameters are embedded in every file
  --template T     file names, default "${DEFAULT_TEMPLATE}" ({index} {seed} {prompt-slug} {date} {model} {steps} {cfg})
  --zip            also write one zip of the files and manifests
  --overwrite      replace existing files instead of choosing a free name
  --quality N      JPEG/WebP quality 1-100
  --model NAME     only items made with this model   --limit N   at most N items (newest first)
  --data DIR       the studio's data folder (default: the usual one)`;

const OPTIONS = {
  out: { type: 'string', short: 'o' },
  all: { type: 'boolean' },
  ids: { type: 'string' },
  batch: { type: 'string' },
  search: { type: 'string' },
  favourites: { type: 'boolean' },
  tag: { type: 'string' },
  model: { type: 'string' },
  limit: { type: 'string' },
  format: { type: 'string' },
  template: { type: 'string' },
  zip: { type: 'boolean' },
  overwrite: { type: 'boolean' },
  quality: { type: 'string' },
  data: { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export class ExportUsageError extends UsageError {}

export async function exportMain(argv: string[], log: (s: string) => void = (s) => process.stderr.write(s + '\n')): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  if (values.help) {
    log(EXPORT_USAGE);
    return;
  }
  if (positionals.length) throw new ExportUsageError(`export takes no positional arguments (got ${positionals.join(' ')})`);
  if (!values.out) throw new ExportUsageError('export needs --out DIR');
  const format = values.format ?? 'png';
  if (!isExportFormat(format)) throw new ExportUsageError(`--format must be one of ${EXPORT_FORMATS.join(', ')} (got '${format}')`);
  const template = values.template ?? DEFAULT_TEMPLATE;
  try {
    checkTemplate(template);
  } catch (e) {
    throw e instanceof TemplateError ? new ExportUsageError(e.message) : e;
  }
  const selectors = [values.all, values.ids, values.batch, values.search, values.favourites, values.tag].filter((v) => v !== undefined && v !== false);
  if (selectors.length === 0) throw new ExportUsageError('say what to export: --all, --ids, --batch, --search, --favourites or --tag');
  const limit = values.limit === undefined ? Infinity : Number(values.limit);
  if (!(limit >= 1) || !Number.isInteger(limit === Infinity ? 1 : limit)) throw new ExportUsageError(`--limit must be a whole number ≥ 1 (got '${values.limit}')`);
  const quality = values.quality === undefined ? undefined : Number(values.quality);
  if (quality !== undefined && !(Number.isInteger(quality) && quality >= 1 && quality <= 100)) throw new ExportUsageError(`--quality must be 1-100 (got '${values.quality}')`);

  const { defaultDataDir } = await import('../server/data-dir');
  const store = openStore({ dataDir: values.data ?? defaultDataDir() });
  try {
    let items: Generation[];
    if (values.ids) {
      items = values.ids.split(',').map((id) => id.trim()).filter(Boolean).map((id) => {
        const g = store.generations.get(id);
        if (!g) throw new Error(`no history item ${id}`);
        return g;
      });
    } else if (values.batch) {
      if (!store.batches.get(values.batch)) throw new Error(`no batch ${values.batch}`);
      items = batchGenerations(store, values.batch);
      if (!items.length) throw new Error(`batch ${values.batch} has no history items (a CLI batch writes its files and manifest to its --out folder instead)`);
    } else {
      items = [];
      let cursor: string | null = null;
      do {
        const page = store.generations.list({
          text: values.search,
          favourite: values.favourites ? true : undefined,
          tag: values.tag,
          modelName: values.model,
          status: 'done',
          limit: 500,
          cursor,
        });
        items.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor && items.length < limit);
    }
    if (values.model && (values.ids || values.batch)) items = items.filter((g) => g.modelName === values.model);
    items = items.slice(0, limit === Infinity ? undefined : limit);
    if (!items.length) {
      log('nothing to export: no history item matches');
      return;
    }
    const result = await exportGenerations(store, items, {
      outDir: path.resolve(values.out),
      format,
      template,
      quality,
      zip: values.zip ?? false,
      overwrite: values.overwrite ?? false,
      software: `Atelier ${ENGINE_VERSION}`,
      onProgress: values.quiet ? undefined : (done, total, file) => log(`[${done}/${total}] ${file ?? 'failed'}`),
    });
    const failed = result.items.filter((i) => i.status === 'failed');
    log(`exported ${result.items.length - failed.length} of ${result.items.length} to ${path.resolve(values.out)}; manifest: ${result.manifest.json}${result.zip ? `; zip: ${result.zip}` : ''}`);
    if (failed.length) {
      for (const f of failed) log(`item ${f.index} (${f.generationId}) failed: ${f.error}`);
      throw new Error(`${failed.length} item${failed.length === 1 ? '' : 's'} could not be exported`);
    }
  } finally {
    store.close();
  }
}
