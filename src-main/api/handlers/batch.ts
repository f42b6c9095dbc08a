// Batch routes (issue 8): a dropped prompt list becomes a batch in the store and a `batch.run` job
// in the queue; the renderer lists batches with their progress, cancels, resumes and exports them.
// Which job runs which batch is remembered here; a batch left 'running' with no job and no live
// process behind it (the app was closed or crashed) is reported as interrupted and resumable.
import path from 'node:path';
import type { BatchCreateInput, BatchRowInfo, BatchState, BatchSummary, ExportFormat } from '../../../src-shared/contract';
import { ApiError } from '../../../src-shared/contract';
import type { BatchJob } from '../../store';
import { tokenIsLive } from '../../store/batches';
import type { BatchOptions, PlannedRow } from '../../batch/plan';
import { createBatch } from '../../batch/plan';
import { modelDisplayName } from '../../batch/generator';
import { PromptListError } from '../../batch/parse';
import { TemplateError, DEFAULT_TEMPLATE } from '../../export/template';
import { batchGenerations, exportGenerations } from '../../export/history';
import type { Generation } from '../../store/types';
import type { Core } from '../core';
import { findModelBundles } from './models';
import { readSettings } from './settings';

export const BATCH_JOB_KIND = 'batch.run';

export function batchHandlers(core: Core) {
  const jobOf = new Map<string, string>();

  const liveJob = (batchId: string): string | null => {
    const jobId = jobOf.get(batchId);
    if (!jobId) return null;
    const job = core.jobs.get(jobId);
    if (job && (job.status === 'queued' || job.status === 'running')) return jobId;
    return null;
  };

  const summary = (b: BatchJob): BatchSummary => {
    const jobId = liveJob(b.id);
    const left = b.total - b.done - b.failed;
    let state: BatchState = b.status;
    // 'running' in the store with neither a job here nor a live process elsewhere: interrupted.
    if ((state === 'running' || state === 'pending') && !jobId && !(b.runner && tokenIsLive(b.runner))) state = left > 0 ? 'interrupted' : 'done';
    if (jobId && state === 'pending') state = 'running';
    const format = (b.params as { format?: ExportFormat }).format ?? 'png';
    return {
      id: b.id,
      source: b.source,
      state,
      total: b.total,
      done: b.done,
      failed: b.failed,
      outDir: b.outDir,
      format,
      jobId,
      resumable: left > 0 && !jobId && !(b.runner && tokenIsLive(b.runner)),
      error: b.error,
      createdAt: b.createdAt,
      updatedAt: b.updatedAt,
    };
  };

  const mustGet = (id: string): BatchJob => {
    const b = core.store.batches.get(id);
    if (!b) throw new ApiError('NOT_FOUND', `no batch ${id}`);
    return b;
  };

  const start = (b: BatchJob): string => {
    const settings = readSettings(core.store.settings);
    const params: Record<string, unknown> = { dataDir: core.store.dataDir, batchId: b.id, executionProvider: settings.executionProvider };
    if (settings.threads > 0) params.threads = settings.threads;
    try {
      const jobId = core.jobs.submit(BATCH_JOB_KIND, params);
      jobOf.set(b.id, jobId);
      return jobId;
    } catch (error) {
      throw new ApiError('UNAVAILABLE', `cannot run the batch: ${error instanceof Error ? error.message : String(error)}`);
    }
  };

  const modelDir = (id: string | undefined): string | undefined => {
    if (id === undefined) return undefined;
    const bundle = findModelBundles(core.modelRoots).find((m) => m.id === id);
    if (!bundle) throw new ApiError('NOT_FOUND', `no model bundle named ${id}`);
    if (bundle.problem) throw new ApiError('UNAVAILABLE', bundle.problem);
    return bundle.dir;
  };

  return {
    'batch.create': (input: BatchCreateInput) => {
      if (input.outDir && !path.isAbsolute(input.outDir)) throw new ApiError('VALIDATION', 'the output folder must be an absolute path');
      const bundles = findModelBundles(core.modelRoots);
      const defaultDir = modelDir(input.model) ?? bundles.find((m) => !m.problem)?.dir;
      const options: BatchOptions = {
        outDir: input.outDir ?? null,
        format: input.format ?? 'png',
        template: input.template ?? DEFAULT_TEMPLATE,
        ...(input.steps === undefined ? {} : { steps: input.steps }),
        ...(input.cfg === undefined ? {} : { cfg: input.cfg }),
        ...(input.seed === undefined ? {} : { seed: input.seed }),
        ...(defaultDir === undefined ? {} : { model: defaultDir }),
        zip: input.zip ?? false,
      };
      let created;
      try {
        created = createBatch(core.store, {
          text: input.text,
          fileName: input.fileName,
          // Relative image paths in a dropped file have no folder to be relative to but the data folder.
          baseDir: core.store.dataDir,
          listFormat: input.listFormat,
          options,
          modelNameOf: (m) => {
            if (m === undefined) return 'model';
            const found = bundles.find((b) => b.id === m || b.dir === m);
            return found ? found.name : modelDisplayName(m);
          },
        });
      } catch (error) {
        if (error instanceof PromptListError || error instanceof TemplateError) throw new ApiError('VALIDATION', `${input.fileName}: ${error.message}`);
        throw error;
      }
      start(created.batch);
      return {
        batch: summary(core.store.batches.get(created.batch.id)!),
        issues: created.list.rows.filter((r) => r.errors.length).slice(0, 1000).map((r) => ({ line: r.line, errors: r.errors })),
        warnings: created.list.warnings,
      };
    },
    'batch.list': () => ({ batches: core.store.batches.list(100).map(summary) }),
    'batch.get': ({ id, limit }: { id: string; limit?: number }) => {
      const b = mustGet(id);
      const rows: BatchRowInfo[] = core.store.batches.rows(id).slice(0, limit ?? 1000).map((r) => {
        const p = r.params as Partial<PlannedRow>;
        return {
          index: r.index,
          line: r.line,
          status: r.status,
          prompt: p.prompt ?? '',
          seed: p.seed ?? null,
          error: r.error,
          file: r.outputPath,
          generationId: r.generationId,
        };
      });
      return { batch: summary(b), rows };
    },
    'batch.cancel': ({ id }: { id: string }) => {
      const b = mustGet(id);
      const jobId = liveJob(id);
      if (!jobId) throw new ApiError('CONFLICT', `batch ${id} is not running`);
      core.jobs.cancel(jobId);
      return summary(core.store.batches.get(b.id)!);
    },
    'batch.resume': ({ id }: { id: string }) => {
      const b = mustGet(id);
      const s = summary(b);
      if (s.jobId) throw new ApiError('CONFLICT', `batch ${id} is already running`);
      if (!s.resumable) throw new ApiError('CONFLICT', b.total - b.done - b.failed > 0 ? `batch ${id} is being run by another process` : `batch ${id} has no rows left to run`);
      start(b);
      return summary(core.store.batches.get(id)!);
    },
    'batch.export': async (input: { batchId?: string; generationIds?: string[]; outDir: string; format?: ExportFormat; template?: string; zip?: boolean; overwrite?: boolean }) => {
      if (!path.isAbsolute(input.outDir)) throw new ApiError('VALIDATION', 'the export folder must be an absolute path');
      let items: Generation[];
      if (input.batchId) {
        mustGet(input.batchId);
        items = batchGenerations(core.store, input.batchId);
        if (!items.length) throw new ApiError('CONFLICT', `batch ${input.batchId} has no images in the history yet`);
      } else {
        items = (input.generationIds ?? []).map((id) => {
          const g = core.store.generations.get(id);
          if (!g) throw new ApiError('NOT_FOUND', `no history item ${id}`);
          return g;
        });
      }
      try {
        const result = await exportGenerations(core.store, items, {
          outDir: input.outDir,
          format: input.format ?? 'png',
          template: input.template,
          zip: input.zip,
          overwrite: input.overwrite,
          software: `Atelier ${core.version}`,
        });
        return {
          exported: result.items.filter((i) => i.status === 'done').length,
          failed: result.items.filter((i) => i.status === 'failed').map((i) => ({ index: i.index, generationId: i.generationId, error: i.error ?? 'failed' })),
          manifest: result.manifest.json,
          zip: result.zip,
        };
      } catch (error) {
        if (error instanceof TemplateError) throw new ApiError('VALIDATION', error.message);
        throw error;
      }
    },
  };
}
