// Job handlers for image.generate / image.edit / image.inpaint (run inside the job worker).
// Params follow src-shared/contract/jobs.ts (GenerateParams, EditParams, InpaintParams); images come
// as PNG data URLs, raw bytes, or file paths. The loaded engine is cached at module level between
// jobs (the worker keeps this module loaded) and replaced when the model, provider or threads change.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { HandlerTable, JobContext } from '../types';
import type { AppliedLora, Engine, GenerateOptions, GenerationResult, LoraWeights, PreviewEvent, ProgressEvent } from '../../engine';
import { isExecutionProvider, loadBundle } from '../../engine';
import type { ExecutionProviderChoice } from '../../engine';
import { defaultModelDir, HOW_TO_GET_DEFAULT_MODEL, modelsRoot } from '../../engine/models';
import { readLoraFile } from '../../trainer/lora-file';

/** An image given to a job: a PNG data URL, encoded bytes, or a path on disk. */
export type JobImage = string | Uint8Array | { png: string } | { path: string } | { generationId: string };

export interface ImageJobParams {
  prompt: string;
  negativePrompt?: string;
  seed?: number | null;
  steps?: number;
  cfg?: number;
  /** A model name under the models folder, or a bundle folder path. */
  model?: string;
  /** A resolved bundle folder (takes precedence over `model`). */
  modelDir?: string;
  executionProvider?: string;
  threads?: number;
  batch?: number;
  sampler?: 'euler' | 'heun';
  source?: JobImage;
  strength?: number;
  /** Edit: keep the source where the AR kept its codes (default: the bundle's). */
  keepUnchanged?: boolean;
  mask?: JobImage;
  parentId?: string;
  /** LoRA files (resolved by the API: a run's output or a file in <dataDir>/loras/) and their weights. */
  loras?: { file: string; weight: number; name?: string }[];
}

export interface ImageJobResult {
  images: { png: Uint8Array; seed: number; width: number; height: number; metadata: unknown }[];
  warnings: string[];
  notices: string[];
  timings: GenerationResult['timings'];
  executionProvider: string | null;
  fallbackReasons: string[];
  model: { name: string; hash: string; dir: string };
}

const DATA_URL = /^data:image\/[a-z+.-]+;base64,/;

/** Turns a job's image reference into something the engine reads (bytes or a path). */
export function resolveJobImage(img: JobImage | undefined, what: string): string | Uint8Array {
  if (img === undefined) throw new Error(`${what} is missing`);
  if (img instanceof Uint8Array) return img;
  if (typeof img === 'string') {
    if (DATA_URL.test(img)) return new Uint8Array(Buffer.from(img.replace(DATA_URL, ''), 'base64'));
    return img;
  }
  if ('png' in img) return resolveJobImage(img.png, what);
  if ('path' in img) return img.path;
  throw new Error(`${what} refers to generation ${img.generationId}: the API must resolve it to PNG bytes or a file path before submitting the job`);
}

export function resolveModelDir(p: Pick<ImageJobParams, 'model' | 'modelDir'>): string {
  if (p.modelDir) return p.modelDir;
  if (p.model) {
    const candidates = [p.model, path.join(modelsRoot(), p.model)];
    for (const c of candidates) if (existsSync(path.join(c, 'bundle.json'))) return c;
    throw new Error(`model '${p.model}' is not installed (looked in ${candidates.join(', ')})`);
  }
  const dir = defaultModelDir();
  if (!dir) throw new Error(HOW_TO_GET_DEFAULT_MODEL);
  return dir;
}

let cached: { key: string; engine: Promise<Engine> } | null = null;

/** The engine for these params, loaded once and reused while the model/provider/threads stay the same. */
export async function engineFor(p: ImageJobParams): Promise<Engine> {
  const dir = path.resolve(resolveModelDir(p));
  const ep = p.executionProvider ?? 'auto';
  if (!isExecutionProvider(ep)) throw new Error(`unknown execution provider '${ep}'`);
  const key = JSON.stringify([dir, ep, p.threads ?? null]);
  if (cached?.key !== key) {
    const old = cached;
    cached = { key, engine: loadBundle(dir, { executionProvider: ep as ExecutionProviderChoice, threads: p.threads }) };
    cached.engine.catch(() => {
      if (cached?.key === key) cached = null;
    });
    if (old) await old.engine.then((e) => e.dispose()).catch(() => undefined);
  }
  return cached.engine;
}

/** Releases the cached engine (tests, model switch, worker shutdown). */
export async function releaseCachedEngine(): Promise<void> {
  const old = cached;
  cached = null;
  if (old) await old.engine.then((e) => e.dispose()).catch(() => undefined);
}

// LoRA files read once per model and file version: moving a weight slider re-reads nothing, and the
// engine keeps its session (a LoRA only changes the DiT's inputs).
const loraCache = new Map<string, LoraWeights>();

/** The job's LoRAs as the engine takes them; each is checked against the loaded model, even at weight 0. */
export function jobLoras(engine: Engine, p: Pick<ImageJobParams, 'loras'>): AppliedLora[] | undefined {
  if (!p.loras?.length) return undefined;
  return p.loras.map(({ file, weight, name }) => {
    const st = statSync(file, { throwIfNoEntry: false });
    const key = JSON.stringify([engine.bundle.dir, engine.bundle.hash, file, st?.size, st?.mtimeMs]);
    let weights = loraCache.get(key);
    if (!weights) {
      weights = readLoraFile(engine.manifest, file);
      if (loraCache.size >= 16) loraCache.delete(loraCache.keys().next().value as string);
      loraCache.set(key, weights);
    }
    return { weights, weight, name: name ?? path.basename(file, '.safetensors') };
  });
}

const STAGE_LABEL: Record<ProgressEvent['stage'], string> = { encode: 'encoding image', ar: 'image tokens', dit: 'diffusion', decode: 'decoding' };

function engineOptions(engine: Engine, p: ImageJobParams, ctx: JobContext): GenerateOptions {
  if (typeof p.prompt !== 'string') throw new Error('prompt must be a string');
  return {
    loras: jobLoras(engine, p),
    prompt: p.prompt,
    seed: p.seed ?? undefined,
    steps: p.steps,
    cfgScale: p.cfg,
    batch: p.batch,
    sampler: p.sampler,
    parentId: p.parentId,
    signal: ctx.signal,
    onProgress: (e: ProgressEvent) => ctx.progress(e.done, e.total, STAGE_LABEL[e.stage]),
    onPreview: (e: PreviewEvent) => ctx.preview(e.png),
  };
}

async function finish(engine: Engine, result: GenerationResult, p: ImageJobParams): Promise<ImageJobResult> {
  const notices = [...result.notices];
  if (p.negativePrompt?.trim()) notices.push('negative prompts are not used by this model family (guidance is against an empty condition); ignored');
  return {
    images: result.images.map((i) => ({ png: i.png, seed: i.seed, width: i.image.width, height: i.image.height, metadata: i.metadata })),
    warnings: result.warnings,
    notices,
    timings: result.timings,
    executionProvider: result.executionProvider,
    fallbackReasons: engine.executionProvider.fallbackReasons,
    model: { name: engine.manifest.name, hash: engine.bundle.hash, dir: engine.bundle.dir },
  };
}

async function generate(params: unknown, ctx: JobContext): Promise<ImageJobResult> {
  const p = params as ImageJobParams;
  const engine = await engineFor(p);
  ctx.signal.throwIfAborted();
  const result = await engine.textToImage(engineOptions(engine, p, ctx));
  return finish(engine, result, p);
}

async function edit(params: unknown, ctx: JobContext): Promise<ImageJobResult> {
  const p = params as ImageJobParams;
  const image = resolveJobImage(p.source, 'the source image');
  const engine = await engineFor(p);
  ctx.signal.throwIfAborted();
  const result = await engine.edit({ ...engineOptions(engine, p, ctx), image, strength: p.strength, keepUnchanged: p.keepUnchanged });
  return finish(engine, result, p);
}

async function inpaint(params: unknown, ctx: JobContext): Promise<ImageJobResult> {
  const p = params as ImageJobParams;
  const image = resolveJobImage(p.source, 'the source image');
  const mask = resolveJobImage(p.mask, 'the mask');
  const engine = await engineFor(p);
  ctx.signal.throwIfAborted();
  const result = await engine.inpaint({ ...engineOptions(engine, p, ctx), image, mask, strength: p.strength });
  return finish(engine, result, p);
}

async function outpaint(params: unknown, ctx: JobContext): Promise<ImageJobResult> {
  const p = params as ImageJobParams & { left?: number; top?: number; right?: number; bottom?: number };
  const image = resolveJobImage(p.source, 'the source image');
  const engine = await engineFor(p);
  ctx.signal.throwIfAborted();
  const result = await engine.outpaint({ ...engineOptions(engine, p, ctx), image, left: p.left, top: p.top, right: p.right, bottom: p.bottom });
  return finish(engine, result, p);
}

export const handlers: HandlerTable = {
  'image.generate': generate,
  'image.edit': edit,
  'image.inpaint': inpaint,
  'image.outpaint': outpaint,
};
