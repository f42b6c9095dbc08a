import type { SamplerName } from '../scheduler/flow-match';
import type { ImageInput } from '../image/io';
import type { GrayImage } from './mask';
import type { AtelierMetadata } from '../image/metadata';
import type { RgbImage } from '../image/pixels';
import type { AppliedLora } from '../diffusion/lora';

export type Stage = 'encode' | 'ar' | 'dit' | 'decode';

export interface ProgressEvent {
  stage: Stage;
  done: number;
  total: number;
}

export interface PreviewEvent {
  stage: 'ar' | 'dit';
  done: number;
  total: number;
  /** PNG of batch item 0 in its current state (small, fast to encode). */
  png: Uint8Array;
}

export interface GenerateOptions {
  prompt: string;
  /** Item b of a batch uses seed + b. Default: a random seed (reported in the result). */
  seed?: number;
  /** DiT steps; default from the bundle. */
  steps?: number;
  /** DiT classifier-free guidance; default from the bundle (1 = off). */
  cfgScale?: number;
  shift?: number;
  sampler?: SamplerName;
  batch?: number;
  /** AR temperature; default from the bundle (`sampling.temperature`, for the edit template `sampling.edit_temperature` if set). */
  temperature?: number;
  topK?: number;
  topP?: number;
  /** AR classifier-free guidance against the empty prompt; default from the bundle (`sampling.cfg_scale`, for edits `sampling.edit_cfg_scale`; else 1 = off). */
  arCfgScale?: number;
  /** LoRAs applied to the DiT (needs a bundle with LoRA graphs); changing them needs no reload. */
  loras?: AppliedLora[];
  signal?: AbortSignal;
  onProgress?: (p: ProgressEvent) => void;
  onPreview?: (p: PreviewEvent) => void | Promise<void>;
  /** AR preview cadence in tokens; default one grid row. 0 turns AR previews off. */
  previewEveryTokens?: number;
  /** Lineage: the parent generation's record id, if the caller has one. */
  parentId?: string;
  /** Parity tests: use recorded random draws instead of the seeded Rng. */
  draws?: { uniforms?: number[][]; noise?: Float32Array };
  /** Keep codes, cond, latents and float pixels in the result (tests, debugging). */
  keepIntermediates?: boolean;
}

export interface EditOptions extends GenerateOptions {
  image: ImageInput;
  /**
   * How far the result may move from the input (1, the default, samples from pure noise as the
   * spec's edit does; below 1 starts from the input re-noised to that fraction of the schedule).
   */
  strength?: number;
  /**
   * Keep the input in the cells whose image code the AR kept (blended back at every DiT step, copied
   * exactly at the end); default from the bundle (`sampling.edit_keep_unchanged`, else off).
   */
  keepUnchanged?: boolean;
}

export interface InpaintOptions extends GenerateOptions {
  image: ImageInput;
  /** Grey image the size of `image`: white = regenerate, black = keep. */
  mask: ImageInput | GrayImage;
  /** As for edit: below 1, the masked region starts from the re-noised input instead of pure noise. */
  strength?: number;
}

export interface OutpaintOptions extends GenerateOptions {
  image: ImageInput;
  left?: number;
  top?: number;
  right?: number;
  bottom?: number;
}

export interface VariationOptions extends Omit<GenerateOptions, 'prompt'> {
  image: ImageInput;
  /** Instruction for the edit conditioning; default: keep the image unchanged. */
  prompt?: string;
  /** Fraction of the schedule re-run from the re-noised image (0 < strength ≤ 1); default 0.6. */
  strength?: number;
}

export interface GeneratedImage {
  /** PNG with `parameters` and `atelier` chunks. */
  png: Uint8Array;
  image: RgbImage;
  seed: number;
  metadata: AtelierMetadata;
  /** The AR image codes of this item. */
  codes: number[];
}

export interface Timings {
  encodeMs: number;
  arMs: number;
  arPrefillMs: number;
  arTokensPerSecond: number;
  connectorMs: number;
  ditMs: number;
  ditStepsPerSecond: number;
  vaeDecodeMs: number;
  totalMs: number;
}

export interface GenerationResult {
  images: GeneratedImage[];
  /** Things the user should know that changed the request (truncated prompt). */
  warnings: string[];
  /** Things done to the inputs (resized image, thresholded mask). */
  notices: string[];
  timings: Timings;
  executionProvider: string | null;
  intermediates?: {
    promptIds: number[];
    codes: number[][];
    cond: Float32Array;
    noise: Float32Array;
    latents: Float32Array;
    pixels: Float32Array;
    /** Edits that keep: per item, 1 for each cell the DiT repainted, 0 where the AR kept the reference's code. */
    regenerateCells?: number[][];
  };
}
