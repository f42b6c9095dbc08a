// Image jobs between the contract and the store. On submit: settings (provider, threads) are applied,
// a history item given as the source becomes its file and the parent of the result, a model id
// becomes its bundle folder. On result: every image is written to the store (file durably first, then
// its row) before the renderer hears of it, and the event carries the new history ids instead of bytes.
// LoRAs named by the renderer (a finished run or a file in <dataDir>/loras/) become file paths for
// the worker here, and the generation's params record them (`loras: [{ key, name, weight }]`).
import type { JobSubmission, UsedLora } from '../../src-shared/contract';
import { ApiError } from '../../src-shared/contract';
import type { GenerationKind, NewGenerationImage } from '../store/types';
import type { Core } from './core';
import { readSettings } from './handlers/settings';
import { findModelBundles } from './handlers/models';
import { hasLoraGraphs } from './handlers/lora';
import { resolveLoraChoice } from './loras';

type ImageSubmission = Extract<JobSubmission, { kind: 'image.generate' | 'image.edit' | 'image.inpaint' | 'image.outpaint' }>;

const generationKind: Record<ImageSubmission['kind'], GenerationKind> = {
  'image.generate': 't2i',
  'image.edit': 'edit',
  'image.inpaint': 'inpaint',
  // The store has no outpaint kind: an outpaint is an inpaint of the grown margins (params.outpaint says so).
  'image.outpaint': 'inpaint',
};

/** What the engine's image handlers return (src-main/jobs/handlers/generate.ts), as far as we use it. */
interface ImageJobOutput {
  images: { png: Uint8Array; seed: number; width: number; height: number; metadata?: unknown }[];
  model: { name: string; hash: string | null };
  executionProvider?: string | null;
  warnings?: string[];
  notices?: string[];
}

function isImageJobOutput(value: unknown): value is ImageJobOutput {
  const v = value as ImageJobOutput | null;
  return (
    typeof v === 'object' && v !== null && Array.isArray(v.images) && typeof v.model?.name === 'string' &&
    v.images.every((image) => image?.png instanceof Uint8Array && Number.isInteger(image.seed))
  );
}

export function isImageSubmission(submission: JobSubmission): submission is ImageSubmission {
  return submission.kind in generationKind;
}

function dataUrlBytes(dataUrl: string): Uint8Array {
  return new Uint8Array(Buffer.from(dataUrl.slice(dataUrl.indexOf(',') + 1), 'base64'));
}

interface PendingImageJob {
  submission: ImageSubmission;
  parentId: string | null;
  executionProvider: string;
  loras: UsedLora[];
}

export class ImageJobs {
  private readonly pending = new Map<string, PendingImageJob>();
  private readonly recorded = new Map<string, string[]>();

  constructor(private readonly core: Core) {}

  /** The params the worker gets for a validated submission. */
  prepare(submission: ImageSubmission): { params: Record<string, unknown>; parentId: string | null; executionProvider: string; loras: UsedLora[] } {
    const settings = readSettings(this.core.store.settings);
    const params: Record<string, unknown> = { ...submission.params, executionProvider: settings.executionProvider };
    if (settings.threads > 0) params.threads = settings.threads;

    if (submission.params.model !== undefined) {
      const bundle = findModelBundles(this.core.modelRoots).find((m) => m.id === submission.params.model);
      if (!bundle) throw new ApiError('NOT_FOUND', `no model bundle named ${submission.params.model}`);
      if (bundle.problem) throw new ApiError('UNAVAILABLE', bundle.problem);
      params.modelDir = bundle.dir;
    }

    const loras = (submission.params.loras ?? []).map((choice) => resolveLoraChoice(this.core.store, choice));
    delete params.loras;
    if (loras.length > 0) {
      const dir = params.modelDir;
      if (typeof dir === 'string' && !hasLoraGraphs(dir)) {
        throw new ApiError('UNAVAILABLE', `the model ${submission.params.model} has no LoRA graphs, so it cannot use LoRAs: add them with python -m modeling.lora.export --bundle ${dir}`);
      }
      // The worker reads the files against the loaded model (a LoRA for another model is refused there).
      params.loras = loras.map((l) => ({ file: l.file, weight: l.weight, name: l.used.name }));
    }

    let parentId: string | null = null;
    if ('source' in submission.params && 'generationId' in submission.params.source) {
      parentId = submission.params.source.generationId;
      const parent = this.core.store.generations.get(parentId);
      if (!parent) throw new ApiError('NOT_FOUND', `no history item ${parentId} to edit`);
      const output = parent.assets.find((a) => a.role === 'output');
      if (!output) throw new ApiError('CONFLICT', `history item ${parentId} has no image to edit`);
      params.source = { path: this.core.store.assets.absolutePath(output.asset) };
      params.parentId = parentId;
    }
    return { params, parentId, executionProvider: settings.executionProvider, loras: loras.map((l) => l.used) };
  }

  remember(jobId: string, submission: ImageSubmission, parentId: string | null, executionProvider: string, loras: UsedLora[] = []): void {
    this.pending.set(jobId, { submission, parentId, executionProvider, loras });
  }

  forget(jobId: string): void {
    this.pending.delete(jobId);
  }

  /**
   * Writes a finished job's images to history (once, however many times it is asked) and returns
   * their ids; null for jobs that are not image jobs submitted through the API.
   */
  record(jobId: string, result: unknown): string[] | null {
    const done = this.recorded.get(jobId);
    if (done) return done;
    const job = this.pending.get(jobId);
    if (!job) return null;
    this.pending.delete(jobId);
    if (!isImageJobOutput(result)) throw new Error(`job ${jobId} (${job.submission.kind}) returned no images`);

    const { submission } = job;
    const p = submission.params;
    const extras: NewGenerationImage[] = [];
    if ('source' in p && 'png' in p.source) extras.push({ role: 'reference', data: dataUrlBytes(p.source.png) });
    if ('mask' in p) extras.push({ role: 'mask', data: dataUrlBytes(p.mask) });

    const ids = result.images.map((image) =>
      this.core.store.generations.create({
        kind: generationKind[submission.kind],
        prompt: p.prompt,
        negativePrompt: p.negativePrompt ?? '',
        seed: image.seed,
        modelName: result.model.name,
        modelHash: result.model.hash,
        parentId: job.parentId,
        params: {
          steps: p.steps,
          cfg: p.cfg,
          width: image.width,
          height: image.height,
          ...('strength' in p && p.strength !== undefined ? { strength: p.strength } : {}),
          ...('keepUnchanged' in p && p.keepUnchanged !== undefined ? { keepUnchanged: p.keepUnchanged } : {}),
          ...(submission.kind === 'image.outpaint' ? { outpaint: { left: submission.params.left, top: submission.params.top, right: submission.params.right, bottom: submission.params.bottom } } : {}),
          executionProvider: result.executionProvider ?? job.executionProvider,
          ...(job.loras.length > 0 ? { loras: job.loras } : {}),
          ...(image.metadata === undefined ? {} : { metadata: image.metadata }),
        },
        images: [{ role: 'output', data: image.png, width: image.width, height: image.height }, ...extras],
      }).id,
    );
    this.recorded.set(jobId, ids);
    // Keep the memory bounded: ids are only needed until every listener has seen the event.
    if (this.recorded.size > 500) this.recorded.delete(this.recorded.keys().next().value as string);
    return ids;
  }
}
