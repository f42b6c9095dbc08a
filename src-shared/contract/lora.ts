// `lora` domain (issue 7): the LoRA wizard — look at a dataset folder, edit captions (written to the
// same-name .txt files the trainer reads), start a training run (a `lora.train` job), follow it (loss
// per step, samples), cancel it, and try the result with a weight, next to the same seed without it.
import { z } from 'zod';
import { Id, NoInput, PngDataUrl, Seed, Timestamp } from './common';

const FolderPath = z.string().max(4096).regex(/\S/, 'must not be blank');
const Text = (max: number) => z.string().max(max).regex(/\S/, 'must not be blank');
const ItemName = z.string().min(1).max(255).regex(/^[^/\\]+$/, 'a file name, not a path');

export const LoraDatasetItemInfo = z.strictObject({
  name: z.string(),
  caption: z.string(),
  /** A small preview of the image. */
  thumb: PngDataUrl,
});
export type LoraDatasetItemInfo = z.infer<typeof LoraDatasetItemInfo>;

export const LoraSettingsInput = z.strictObject({
  rank: z.int().min(1).max(256).optional(),
  alpha: z.number().positive().optional(),
  steps: z.int().min(1).max(1_000_000).optional(),
  batch: z.int().min(1).max(256).optional(),
  learningRate: z.number().positive().lt(1).optional(),
  warmupSteps: z.int().min(0).optional(),
  schedule: z.enum(['cosine', 'constant']).optional(),
  seed: Seed.optional(),
  trigger: z.string().max(100).optional(),
  sampleEvery: z.int().min(0).optional(),
  samplePrompts: z.array(z.string().max(500)).max(8).optional(),
  checkpointEvery: z.int().min(1).optional(),
  keepCheckpoints: z.int().min(1).max(100).optional(),
  /** How captions become the DiT's condition: the AR on each image's own codes, or the AR's samples. */
  condition: z.enum(['own-codes', 'sampled']).optional(),
});
export type LoraSettingsInput = z.infer<typeof LoraSettingsInput>;

export const LoraRunInfo = z.strictObject({
  id: Id,
  projectId: Id,
  name: z.string(),
  status: z.enum(['pending', 'running', 'done', 'failed', 'cancelled']),
  step: z.int().min(0),
  totalSteps: z.int().min(0),
  error: z.string().nullable(),
  jobId: z.string().nullable(),
  /** The final LoRA file once done. */
  output: z.string().nullable(),
  createdAt: Timestamp,
});
export type LoraRunInfo = z.infer<typeof LoraRunInfo>;

export const LoraRunDetail = z.strictObject({
  run: LoraRunInfo,
  losses: z.array(z.strictObject({ step: z.int(), loss: z.number() })),
  samples: z.array(z.strictObject({ step: z.int(), index: z.int(), prompt: z.string(), png: PngDataUrl })),
  stepsPerSecond: z.number().nullable(),
});
export type LoraRunDetail = z.infer<typeof LoraRunDetail>;

// --- LoRAs applied to image jobs (issue 6: the prompt panel's LoRAs with weights) -------------
// The renderer names a LoRA, never a file anywhere on disk: either a finished training run known to
// the store (`loraId`, its final lora.safetensors) or a file inside the data folder's LoRA area,
// `<dataDir>/loras/`, given relative to it. The core resolves both and refuses anything else.

/** The folder under the data folder where LoRA files can be dropped. */
export const LORA_FOLDER = 'loras';

/** A .safetensors file relative to `<dataDir>/loras/`: forward slashes, no `..`, not absolute. */
export const LoraFilePath = z
  .string()
  .min(1)
  .max(1024)
  .refine((p) => !p.startsWith('/') && !/^[A-Za-z]:/.test(p), 'a path inside the LoRA folder, not an absolute path')
  .refine((p) => !p.includes('\\') && !p.includes('\0'), 'forward slashes only')
  .refine((p) => p.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..'), 'the path must stay inside the LoRA folder')
  .refine((p) => /\.safetensors$/i.test(p), 'a .safetensors file');

/** How strongly a LoRA applies: 1 = as trained, 0 = off, negative pushes away from it. */
export const LoraWeight = z.number().min(-2).max(2);

export const LoraChoice = z.union([
  z.strictObject({ loraId: Id, weight: LoraWeight }),
  z.strictObject({ path: LoraFilePath, weight: LoraWeight }),
]);
export type LoraChoice = z.infer<typeof LoraChoice>;

/** The LoRAs of an image job: at most 8, each named once. */
export const LoraChoices = z
  .array(LoraChoice)
  .max(8)
  .refine((list) => new Set(list.map(loraKey)).size === list.length, 'the same LoRA is listed twice');

/** One string per LoRA (`run:<id>` or `file:<path>`): the history filter and the pickers use it. */
export function loraKey(choice: { loraId: string } | { path: string }): string {
  return 'loraId' in choice ? `run:${choice.loraId}` : `file:${choice.path}`;
}

/** The choice a key names (null for a key that is neither form). */
export function loraChoiceFromKey(key: string, weight: number): LoraChoice | null {
  if (key.startsWith('run:')) return { loraId: key.slice(4), weight };
  if (key.startsWith('file:')) return { path: key.slice(5), weight };
  return null;
}

/** What history records per LoRA used (in the generation's `params.loras`). */
export const UsedLora = z.strictObject({ key: z.string(), name: z.string(), weight: z.number() });
export type UsedLora = z.infer<typeof UsedLora>;

export const AvailableLora = z.strictObject({
  key: z.string(),
  /** What the person sees: the run's project name, or the file's name. */
  name: z.string(),
  source: z.enum(['trained', 'file']),
  loraId: Id.nullable(),
  path: z.string().nullable(),
  bytes: z.int().min(0),
  modifiedAt: Timestamp,
});
export type AvailableLora = z.infer<typeof AvailableLora>;

export const loraRoutes = {
  /** LoRAs an image job can use: finished runs, then the files in `<dataDir>/loras/`. */
  'lora.available': {
    input: NoInput,
    output: z.strictObject({ loras: z.array(AvailableLora), folder: z.string() }),
  },
  'lora.inspect': {
    input: z.strictObject({ datasetDir: FolderPath, trigger: z.string().max(100).optional() }),
    output: z.strictObject({ items: z.array(LoraDatasetItemInfo), found: z.int().min(0), problems: z.array(z.string()) }),
  },
  'lora.setCaption': {
    input: z.strictObject({ datasetDir: FolderPath, name: ItemName, caption: z.string().max(2000) }),
    output: z.strictObject({ name: z.string(), caption: z.string() }),
  },
  'lora.start': {
    input: z.strictObject({ name: Text(200), datasetDir: FolderPath, model: z.string().min(1).max(4096).optional(), settings: LoraSettingsInput }),
    output: z.strictObject({ run: LoraRunInfo }),
  },
  'lora.runs': { input: NoInput, output: z.strictObject({ runs: z.array(LoraRunInfo) }) },
  'lora.run': { input: z.strictObject({ runId: Id }), output: LoraRunDetail },
  'lora.cancel': { input: z.strictObject({ runId: Id }), output: z.strictObject({ cancelled: z.boolean() }) },
  'lora.try': {
    input: z.strictObject({ runId: Id, prompt: Text(2000), seed: Seed, weight: z.number().min(-4).max(4) }),
    output: z.strictObject({ withLora: PngDataUrl, without: PngDataUrl }),
  },
} as const;
