// The user-facing modes as plans for the shared pipeline (run.ts).
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import type { ImageInput } from '../image/io';
import { decodeGray, decodeImage, fitImage, resizeRgb } from '../image/io';
import { rgbToPlanar } from '../image/pixels';
import type { RgbImage } from '../image/pixels';
import type { EngineContext } from './run';
import { runPipeline } from './run';
import type { GrayImage } from './mask';
import { compositeMasked, latentMask, MaskError, prepareMask } from './mask';
import type { EditOptions, GenerateOptions, GenerationResult, InpaintOptions, OutpaintOptions, VariationOptions } from './types';

/** The instruction variations use when none is given: the edit path asked to change nothing. */
export const KEEP_UNCHANGED = 'keep the image unchanged';
export const DEFAULT_VARIATION_STRENGTH = 0.6;

async function inputBytes(input: ImageInput): Promise<Uint8Array> {
  if (typeof input !== 'string') return input;
  try {
    return new Uint8Array(await readFile(input));
  } catch (e) {
    throw new Error(`cannot read '${input}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

interface LoadedInput {
  original: RgbImage;
  model: RgbImage;
  sha256: string;
  notices: string[];
}

/** The decoded model-size image back at the input's size (nothing to do when they match). */
function backToInputSize(input: LoadedInput): ((img: RgbImage) => Promise<RgbImage>) | undefined {
  const { original, model } = input;
  if (original.width === model.width && original.height === model.height) return undefined;
  return (img) => resizeRgb(img, original.width, original.height);
}

async function loadInput(ctx: EngineContext, input: ImageInput, label: string): Promise<LoadedInput> {
  const bytes = await inputBytes(input);
  const original = await decodeImage(bytes);
  const { width, height } = ctx.bundle.manifest.image;
  const { image, notice } = await fitImage(original, width, height, label);
  return { original, model: image, sha256: createHash('sha256').update(bytes).digest('hex'), notices: notice ? [notice] : [] };
}

export function textToImage(ctx: EngineContext, opts: GenerateOptions): Promise<GenerationResult> {
  return runPipeline(ctx, opts, { mode: 'text-to-image', template: 'generate', notices: [] });
}

export async function edit(ctx: EngineContext, opts: EditOptions): Promise<GenerationResult> {
  if (opts.keepUnchanged !== undefined && typeof opts.keepUnchanged !== 'boolean') {
    throw new RangeError(`keepUnchanged must be true or false (got ${String(opts.keepUnchanged)})`);
  }
  const input = await loadInput(ctx, opts.image, 'input image');
  const pixels = rgbToPlanar(input.model);
  const keep = opts.keepUnchanged ?? ctx.bundle.manifest.sampling.edit_keep_unchanged ?? false;
  return runPipeline(ctx, opts, {
    mode: 'edit',
    template: 'edit',
    refForAr: pixels,
    refForDit: pixels,
    keep: keep ? { original: input.original } : undefined,
    init: partialStrength(opts.strength, pixels),
    // An edit replaces its input on the canvas, so it comes back at the input's size.
    finish: backToInputSize(input),
    parentSha256: input.sha256,
    notices: input.notices,
    extraMeta: opts.strength !== undefined && opts.strength < 1 ? { strength: opts.strength } : {},
  });
}

/** An init plan for strength < 1; strength 1 (or none) keeps the spec's start from pure noise. */
function partialStrength(strength: number | undefined, pixels: Float32Array): { pixels: Float32Array; strength: number } | undefined {
  if (strength === undefined || strength === 1) return undefined;
  if (!(strength > 0 && strength < 1)) throw new RangeError(`strength must be in (0, 1] (got ${strength})`);
  return { pixels, strength };
}

function isGray(m: ImageInput | GrayImage): m is GrayImage {
  return typeof m === 'object' && 'width' in m && 'data' in m;
}

/** Inpaints `input` (any size) where `maskGray` is white; the result has the input's size. */
async function inpaintLoaded(ctx: EngineContext, opts: GenerateOptions & { strength?: number }, input: LoadedInput, maskGray: GrayImage, mode: 'inpaint' | 'outpaint', extra: object): Promise<GenerationResult> {
  const mask = prepareMask(maskGray, input.original.width, input.original.height);
  const m = ctx.bundle.manifest;
  const resized = input.original.width !== m.image.width || input.original.height !== m.image.height;
  return runPipeline(ctx, opts, {
    mode,
    template: 'generate',
    blend: { mask: latentMask(mask, m.latent.width, m.latent.height), known: rgbToPlanar(input.model) },
    init: partialStrength(opts.strength, rgbToPlanar(input.model)),
    // Back to the input's size, then every unmasked pixel copied from the input unchanged.
    finish: async (img) => compositeMasked(input.original, resized ? await resizeRgb(img, input.original.width, input.original.height) : img, mask),
    parentSha256: input.sha256,
    notices: [...input.notices, ...mask.notices],
    extraMeta: { ...extra, ...(opts.strength !== undefined && opts.strength < 1 ? { strength: opts.strength } : {}) },
  });
}

export async function inpaint(ctx: EngineContext, opts: InpaintOptions): Promise<GenerationResult> {
  const input = await loadInput(ctx, opts.image, 'input image');
  let maskGray: GrayImage;
  let maskHash: string;
  if (isGray(opts.mask)) {
    maskGray = opts.mask;
    maskHash = createHash('sha256').update(opts.mask.data).digest('hex');
  } else {
    try {
      const bytes = await inputBytes(opts.mask);
      maskHash = createHash('sha256').update(bytes).digest('hex');
      maskGray = await decodeGray(bytes);
    } catch (e) {
      throw new MaskError((e as Error).message);
    }
  }
  return inpaintLoaded(ctx, opts, input, maskGray, 'inpaint', { mask: { sha256: maskHash } });
}

/**
 * Outpainting: the canvas grows by the margins (new pixels start as copies of the nearest edge,
 * a neutral start for the DiT), the margins are masked, and the original pixels stay exact.
 */
export async function outpaint(ctx: EngineContext, opts: OutpaintOptions): Promise<GenerationResult> {
  const margins = { left: opts.left ?? 0, top: opts.top ?? 0, right: opts.right ?? 0, bottom: opts.bottom ?? 0 };
  for (const [k, v] of Object.entries(margins)) {
    if (!Number.isInteger(v) || v < 0 || v > 4096) throw new RangeError(`outpaint margin ${k} must be an integer in 0…4096 (got ${v})`);
  }
  if (margins.left + margins.top + margins.right + margins.bottom === 0) throw new RangeError('outpaint needs at least one margin > 0');
  const src = await decodeImage(await inputBytes(opts.image));
  const srcHash = createHash('sha256').update(await inputBytes(opts.image)).digest('hex');
  const W = src.width + margins.left + margins.right;
  const H = src.height + margins.top + margins.bottom;
  const { data } = await sharp(src.data, { raw: { width: src.width, height: src.height, channels: 3 } })
    .extend({ ...margins, extendWith: 'copy' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const canvas: RgbImage = { width: W, height: H, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  const maskData = new Uint8Array(W * H).fill(255);
  for (let y = 0; y < src.height; y++) maskData.fill(0, (y + margins.top) * W + margins.left, (y + margins.top) * W + margins.left + src.width);
  const m = ctx.bundle.manifest;
  const { image, notice } = await fitImage(canvas, m.image.width, m.image.height, 'outpaint canvas');
  const input: LoadedInput = { original: canvas, model: image, sha256: srcHash, notices: notice ? [notice] : [] };
  return inpaintLoaded(ctx, opts, input, { width: W, height: H, data: maskData }, 'outpaint', { outpaint: margins });
}

/**
 * Variations: the edit conditioning (reference codes + an instruction, by default "keep the image
 * unchanged") and sampling started from the reference re-noised to `strength` of the schedule, so
 * different seeds give nearby images and strength sets how far they stray.
 */
export async function variations(ctx: EngineContext, opts: VariationOptions): Promise<GenerationResult> {
  const input = await loadInput(ctx, opts.image, 'input image');
  const pixels = rgbToPlanar(input.model);
  const strength = opts.strength ?? DEFAULT_VARIATION_STRENGTH;
  const prompt = opts.prompt?.trim() ? opts.prompt : KEEP_UNCHANGED;
  return runPipeline(ctx, { ...opts, prompt }, {
    mode: 'variation',
    template: 'edit',
    refForAr: pixels,
    refForDit: pixels,
    init: { pixels, strength },
    finish: backToInputSize(input),
    parentSha256: input.sha256,
    notices: input.notices,
    extraMeta: { strength },
  });
}
