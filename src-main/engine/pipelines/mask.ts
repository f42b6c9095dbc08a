// Inpainting masks. White (≥ 128) marks pixels to regenerate, black keeps them.
// Decisions (documented in docs/engine.md):
// - a mask whose size differs from the image is refused: a mask is drawn on the image, and
//   stretching one of another shape would silently move the edit;
// - grey values (anti-aliased or feathered brushes) are thresholded at 50 % with a notice that
//   counts them — the composite at the end is binary so that kept pixels stay exactly as they were;
// - an empty mask is refused (nothing to inpaint).
import type { RgbImage } from '../image/pixels';

export class MaskError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MaskError';
  }
}

export interface GrayImage {
  width: number;
  height: number;
  data: Uint8Array;
}

export interface PreparedMask {
  width: number;
  height: number;
  /** 1 = regenerate, 0 = keep; one byte per pixel of the original image. */
  pixels: Uint8Array;
  masked: number;
  notices: string[];
}

export function prepareMask(mask: GrayImage, imageWidth: number, imageHeight: number): PreparedMask {
  if (mask.width !== imageWidth || mask.height !== imageHeight) {
    throw new MaskError(`mask is ${mask.width}×${mask.height} but the image is ${imageWidth}×${imageHeight}; a mask must have the image's size`);
  }
  const pixels = new Uint8Array(mask.width * mask.height);
  let grey = 0;
  let masked = 0;
  for (let i = 0; i < pixels.length; i++) {
    const v = mask.data[i]!;
    if (v !== 0 && v !== 255) grey++;
    if (v >= 128) {
      pixels[i] = 1;
      masked++;
    }
  }
  if (masked === 0) throw new MaskError('mask is empty (no white pixels): nothing to inpaint');
  const notices: string[] = [];
  if (grey > 0) notices.push(`mask is not binary: ${grey} grey pixel(s) thresholded at 50 % (white = regenerate)`);
  return { width: mask.width, height: mask.height, pixels, masked, notices };
}

/**
 * The mask on the latent grid: a cell is 1 if any pixel it covers is masked (docs/bundle-spec.md).
 * Works for any image size: each cell covers the matching fraction of the original image.
 */
export function latentMask(mask: PreparedMask, latentWidth: number, latentHeight: number): Float32Array {
  const out = new Float32Array(latentWidth * latentHeight);
  for (let cy = 0; cy < latentHeight; cy++) {
    const y0 = Math.floor((cy * mask.height) / latentHeight);
    const y1 = Math.max(y0 + 1, Math.ceil(((cy + 1) * mask.height) / latentHeight));
    for (let cx = 0; cx < latentWidth; cx++) {
      const x0 = Math.floor((cx * mask.width) / latentWidth);
      const x1 = Math.max(x0 + 1, Math.ceil(((cx + 1) * mask.width) / latentWidth));
      let hit = 0;
      for (let y = y0; y < y1 && !hit; y++) {
        for (let x = x0; x < x1; x++) {
          if (mask.pixels[y * mask.width + x]) {
            hit = 1;
            break;
          }
        }
      }
      out[cy * latentWidth + cx] = hit;
    }
  }
  return out;
}

/** Masked pixels from `generated`, every other pixel copied exactly from `original`. */
export function compositeMasked(original: RgbImage, generated: RgbImage, mask: PreparedMask): RgbImage {
  if (generated.width !== original.width || generated.height !== original.height) {
    throw new Error('composite needs images of the same size');
  }
  const data = Uint8Array.from(original.data);
  for (let p = 0; p < mask.pixels.length; p++) {
    if (mask.pixels[p]) {
      data[p * 3] = generated.data[p * 3]!;
      data[p * 3 + 1] = generated.data[p * 3 + 1]!;
      data[p * 3 + 2] = generated.data[p * 3 + 2]!;
    }
  }
  return { width: original.width, height: original.height, data };
}
