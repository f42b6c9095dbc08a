// LoRA routes (issue 7): the wizard's dataset look, caption edits (written to the .txt files the
// trainer reads, atomically), training runs as `lora.train` jobs recorded in the store, and tries
// with a weight next to the same seed without the LoRA (`lora.try` jobs, the model stays loaded).
// Which job runs which run is remembered here; a run the store calls 'running' with no job behind
// it (the app was closed or crashed) is shown as cancelled, and starting it again resumes it.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { LoraRunInfo, LoraSettingsInput } from '../../../src-shared/contract';
import { ApiError } from '../../../src-shared/contract';
import type { LoraRun } from '../../store/types';
import { inspectDataset } from '../../trainer';
import { writeFileAtomic } from '../../trainer/atomic-write';
import type { TryLoraResult } from '../../jobs/handlers/train-lora';
import type { Core } from '../core';
import { listAvailableLoras, loraFolder, loraRunFile } from '../loras';
import { findModelBundles } from './models';
import { readSettings } from './settings';

const pngUrl = (png: Uint8Array): string => `data:image/png;base64,${Buffer.from(png).toString('base64')}`;

async function thumb(file: string, size = 96): Promise<string> {
  const png = await sharp(file).rotate().flatten({ background: '#ffffff' }).resize(size, size, { fit: 'cover' }).png().toBuffer();
  return pngUrl(png);
}

export function hasLoraGraphs(dir: string): boolean {
  try {
    const m = JSON.parse(readFileSync(path.join(dir, 'bundle.json'), 'utf8')) as { lora?: unknown; graphs?: Record<string, unknown> };
    return Boolean(m.lora && m.graphs?.['dit_train_lora'] && m.graphs['dit_lora']);
  } catch {
    return false;
  }
}

export function loraHandlers(core: Core) {
  const jobOf = new Map<string, string>();
  const liveJob = (runId: string): string | null => {
    const jobId = jobOf.get(runId);
    const job = jobId ? core.jobs.get(jobId) : undefined;
    return job && (job.status === 'queued' || job.status === 'running') ? jobId! : null;
  };
  const info = (r: LoraRun): LoraRunInfo => {
    const jobId = liveJob(r.id);
    const project = core.store.projects.get(r.projectId);
    const output = loraRunFile(core.store.dataDir, r.id);
    let status = r.status;
    if ((status === 'running' || status === 'pending') && !jobId) status = 'cancelled'; // interrupted: resumable
    return {
      id: r.id,
      projectId: r.projectId,
      name: project?.name ?? '(deleted project)',
      status,
      step: r.step,
      totalSteps: r.totalSteps,
      error: r.error,
      jobId,
      output: r.status === 'done' && existsSync(output) ? output : null,
      createdAt: r.createdAt,
    };
  };
  const mustRun = (runId: string): LoraRun => {
    const r = core.store.loraRuns.get(runId);
    if (!r) throw new ApiError('NOT_FOUND', `no LoRA run ${runId}`);
    return r;
  };
  const modelDir = (id: string | undefined): string => {
    const bundles = findModelBundles(core.modelRoots).filter((b) => !b.problem);
    const bundle = id ? bundles.find((b) => b.id === id) : bundles.find((b) => hasLoraGraphs(b.dir));
    if (!bundle) throw new ApiError('NOT_FOUND', id ? `no usable model bundle named ${id}` : 'no installed model has LoRA graphs (python -m modeling.lora.export --bundle <model folder>)');
    if (!hasLoraGraphs(bundle.dir)) throw new ApiError('UNAVAILABLE', `the model ${bundle.id} has no LoRA graphs: add them with python -m modeling.lora.export --bundle ${bundle.dir}`);
    return bundle.dir;
  };

  return {
    'lora.inspect': async ({ datasetDir, trigger }: { datasetDir: string; trigger?: string }) => {
      const found = await inspectDataset(datasetDir, { trigger });
      const items = [];
      for (const it of found.items) items.push({ name: it.name, caption: it.rawCaption, thumb: await thumb(it.image) });
      return { items, found: found.found, problems: found.problems };
    },
    'lora.setCaption': ({ datasetDir, name, caption }: { datasetDir: string; name: string; caption: string }) => {
      const file = path.join(datasetDir, `${name}.txt`);
      if (path.dirname(file) !== path.resolve(datasetDir) && path.dirname(file) !== datasetDir) throw new ApiError('VALIDATION', 'the caption must sit next to its image');
      try {
        writeFileAtomic(file, new TextEncoder().encode(caption));
      } catch (e) {
        throw new ApiError('UNAVAILABLE', (e as Error).message);
      }
      return { name, caption };
    },
    'lora.start': async ({ name, datasetDir, model, settings }: { name: string; datasetDir: string; model?: string; settings: LoraSettingsInput }) => {
      const dir = modelDir(model);
      const studio = readSettings(core.store.settings);
      // Refuse a dataset with problems here, with every problem named, before a job is queued.
      const found = await inspectDataset(datasetDir, { trigger: settings.trigger });
      if (found.problems.length) throw new ApiError('VALIDATION', `the dataset cannot be used: ${found.problems.join('; ')}`);
      // A project per name: starting the same name and folder again resumes its newest unfinished run.
      let project = core.store.projects.list().find((p) => p.kind === 'lora' && p.name === name);
      project ??= core.store.projects.create({ name, kind: 'lora', settings: { datasetDir } });
      // The project's dataset items and captions, as trained.
      core.store.loraRuns.setDatasetItems(
        project.id,
        found.items.map((it) => ({ name: it.name, imagePath: it.image, imageSha256: it.imageSha256, caption: it.rawCaption })),
      );
      const unfinished = core.store.loraRuns.list(project.id).find((r) => r.status !== 'done' && !liveJob(r.id) && JSON.stringify(r.config['settings']) === JSON.stringify(settings));
      const run = unfinished ?? core.store.loraRuns.create({ projectId: project.id, baseModel: dir, config: { settings, datasetDir }, totalSteps: settings.steps ?? 500 });
      const jobId = core.jobs.submit('lora.train', {
        modelDir: dir,
        datasetDir,
        dataDir: core.store.dataDir,
        runId: run.id,
        settings,
        threads: studio.threads > 0 ? studio.threads : undefined,
      });
      jobOf.set(run.id, jobId);
      return { run: info(core.store.loraRuns.get(run.id)!) };
    },
    'lora.available': () => ({ loras: listAvailableLoras(core.store), folder: loraFolder(core.store.dataDir) }),
    'lora.runs': () => ({ runs: core.store.loraRuns.list().map(info) }),
    'lora.run': ({ runId }: { runId: string }) => {
      const r = mustRun(runId);
      const metrics = core.store.loraRuns.metrics(runId);
      const samples = core.store.loraRuns.samples(runId).flatMap((s) => {
        const file = path.isAbsolute(s.path) ? s.path : path.join(core.store.dataDir, s.path);
        try {
          return [{ step: s.step, index: s.index, prompt: s.prompt, png: pngUrl(readFileSync(file)) }];
        } catch {
          return []; // a sample file deleted by hand
        }
      });
      const last = metrics.at(-1)?.extra['stepsPerSecond'];
      return { run: info(r), losses: metrics.map((m) => ({ step: m.step, loss: m.loss })), samples, stepsPerSecond: typeof last === 'number' ? last : null };
    },
    'lora.cancel': ({ runId }: { runId: string }) => {
      mustRun(runId);
      const jobId = liveJob(runId);
      return { cancelled: jobId ? core.jobs.cancel(jobId) : false };
    },
    'lora.try': async ({ runId, prompt, seed, weight }: { runId: string; prompt: string; seed: number; weight: number }) => {
      const r = mustRun(runId);
      const file = loraRunFile(core.store.dataDir, runId);
      if (!existsSync(file)) throw new ApiError('CONFLICT', 'this run has not finished: there is no LoRA to try yet');
      const jobId = core.jobs.submit('lora.try', { modelDir: r.baseModel, loraFile: file, prompt, seed, weight });
      const out = (await core.jobs.wait(jobId)) as TryLoraResult;
      return { withLora: pngUrl(out.withLora), without: pngUrl(out.without) };
    },
  };
}
