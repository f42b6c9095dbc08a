// `images` domain: what the core can tell about an image the person brings in (a dropped PNG).
import { z } from 'zod';
import { PngDataUrl } from './common';

/** A1111 `parameters` text, split: prompt, negative prompt, and the `Key: value` pairs. */
export const A1111Parameters = z.strictObject({
  prompt: z.string(),
  negativePrompt: z.string(),
  params: z.record(z.string(), z.string()),
});
export type A1111Parameters = z.infer<typeof A1111Parameters>;

export const ImageParameters = z.strictObject({
  /** The A1111-style `parameters` chunk, when the PNG has one. */
  parameters: A1111Parameters.nullable(),
  /** Atelier's own JSON chunk (everything needed to reproduce the image), when present. */
  atelier: z.record(z.string(), z.unknown()).nullable(),
  /** Names of every text chunk found (ComfyUI `prompt`/`workflow`, InvokeAI …). */
  keys: z.array(z.string()),
});
export type ImageParameters = z.infer<typeof ImageParameters>;

export const imagesRoutes = {
  'images.readParameters': { input: z.strictObject({ png: PngDataUrl }), output: ImageParameters },
} as const;
