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

/**
 * Per-cell values of the image-token grid [gh·gw] (row-major) spread onto a height × width grid:
 * element (y, x) takes cell (⌊y·gh/height⌋, ⌊x·gw/width⌋) — for the latent grid and the pixel grid
 * alike (modeling/generate.py `cells_to_grid`).
 */
export function cellsToGrid(cells: ArrayLike<number>, gh: number, gw: number, height: number, width: number): Uint8Array {
  if (cells.length !== gh * gw) throw new Error(`${cells.length} cells for a ${gh}×${gw} grid`);
  const out = new Uint8Array(height * width);
  for (let y = 0; y < height; y++) {
    const row = Math.floor((y * gh) / height) * gw;
    for (let x = 0; x < width; x++) out[y * width + x] = cells[row + Math.floor((x * gw) / width)]!;
  }
  return out;
}

/** 1 where the AR's code differs from the reference's (the DiT repaints the cell), 0 where it kept it. */
export function regenerateCells(codes: ArrayLike<number>, refCodes: BigInt64Array): Uint8Array {
  if (codes.length !== refCodes.length) throw new Error(`${codes.length} codes against ${refCodes.length} reference codes`);
  const out = new Uint8Array(codes.length);
  for (let i = 0; i < codes.length; i++) out[i] = BigInt(codes[i]!) === refCodes[i] ? 0 : 1;
  return out;
}
