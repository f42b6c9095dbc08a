// `jobs` domain: work that runs in the worker (inference, diagnostics), and the events it emits.
import { z } from 'zod';
import { Id, NoInput, PngDataUrl, Seed, Timestamp } from './common';
import { LoraChoices } from './lora';

const Prompt = z.string().trim().min(1, 'the prompt is empty').max(4000);
const NegativePrompt = z.string().max(4000);
const Steps = z.int().min(1).max(200);
const Cfg = z.number().min(0).max(30);
const ModelName = z.string().min(1).max(200);

/** Counts to `n`, waiting `delayMs` per step; the queue's own self-test (honours cancel). */
export const DiagnosticsCountParams = z.strictObject({
  n: z.int().min(1).max(1_000_000),
  delayMs: z.int().min(0).max(60_000).optional(),
  /** Also send a tiny grey PNG preview each step. */
  preview: z.boolean().optional(),
});

/** null seed: the job picks one (the settings' seed mode is applied by the renderer). */
export const GenerateParams = z.strictObject({
  prompt: Prompt,
  negativePrompt: NegativePrompt.optional(),
  seed: Seed.nullable(),
  steps: Steps,
  cfg: Cfg,
  model: ModelName.optional(),
  /** LoRAs applied to the model (it needs LoRA graphs); weight 0 gives exactly the image without it. */
  loras: LoraChoices.optional(),
});

/** An image given to an edit: a history item's output, or PNG bytes from the canvas. */
export const ImageSource = z.union([
  z.strictObject({ generationId: Id }),
  z.strictObject({ png: PngDataUrl }),
]);
export type ImageSource = z.infer<typeof ImageSource>;

const SourceParams = GenerateParams.extend({
  source: ImageSource,
  /** How far the result may move from the source (1 = ignore it). */
  strength: z.number().min(0).max(1).optional(),
});

export const EditParams = SourceParams.extend({
  /** Keep the source where the model kept its image tokens (default: the model's). */
  keepUnchanged: z.boolean().optional(),
});

/** White pixels of the mask are repainted. */
export const InpaintParams = SourceParams.extend({ mask: PngDataUrl });

const Margin = z.int().min(0).max(4096);
/** The image grows by these margins (pixels); the new area is generated, the old pixels stay. */
export const OutpaintParams = GenerateParams.extend({
  source: ImageSource,
  left: Margin,
  top: Margin,
  right: Margin,
  bottom: Margin,
});

export const JobKind = z.enum(['diagnostics.count', 'image.generate', 'image.edit', 'image.inpaint', 'image.outpaint']);
export type JobKind = z.infer<typeof JobKind>;

export const JobSubmission = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('diagnostics.count'), params: DiagnosticsCountParams }),
  z.strictObject({ kind: z.literal('image.generate'), params: GenerateParams }),
  z.strictObject({ kind: z.literal('image.edit'), params: EditParams }),
  z.strictObject({ kind: z.literal('image.inpaint'), params: InpaintParams }),
  z.strictObject({ kind: z.literal('image.outpaint'), params: OutpaintParams }),
]);
export type JobSubmission = z.infer<typeof JobSubmission>;

export const JobState = z.enum(['queued', 'running', 'done', 'failed', 'cancelled']);
export type JobState = z.infer<typeof JobState>;

export const JobProgress = z.strictObject({
  done: z.number().min(0),
  total: z.number().min(0),
  stage: z.string(),
});
export type JobProgress = z.infer<typeof JobProgress>;

export const JobSummary = z.strictObject({
  jobId: z.string().min(1),
  kind: z.string(),
  state: JobState,
  progress: JobProgress.nullable(),
  /** Why it failed; null unless state is 'failed'. */
  error: z.strictObject({ code: z.string(), message: z.string() }).nullable(),
  createdAt: Timestamp,
  startedAt: Timestamp.nullable(),
  finishedAt: Timestamp.nullable(),
});
export type JobSummary = z.infer<typeof JobSummary>;

const JobRef = z.strictObject({ jobId: z.string().min(1).max(200) });

// Events, keyed by job id. `preview` carries a PNG data URL so the same event travels over IPC and
// over the browser-mode WebSocket (JSON).
const base = { jobId: z.string(), at: Timestamp };
export const JobEvent = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('queued'), ...base, kind: z.string(), position: z.int().min(0) }),
  z.strictObject({ type: z.literal('started'), ...base, kind: z.string() }),
  z.strictObject({ type: z.literal('progress'), ...base, ...JobProgress.shape }),
  z.strictObject({ type: z.literal('preview'), ...base, png: PngDataUrl }),
  z.strictObject({ type: z.literal('log'), ...base, message: z.string() }),
  z.strictObject({ type: z.literal('result'), ...base, result: z.unknown() }),
  z.strictObject({ type: z.literal('error'), ...base, code: z.string(), message: z.string() }),
  z.strictObject({ type: z.literal('cancelled'), ...base }),
]);
export type JobEvent = z.infer<typeof JobEvent>;

export const jobsRoutes = {
  'jobs.submit': { input: JobSubmission, output: JobRef },
  'jobs.cancel': { input: JobRef, output: z.strictObject({ jobId: z.string(), state: JobState }) },
  'jobs.list': { input: NoInput, output: z.strictObject({ jobs: z.array(JobSummary) }) },
} as const;
