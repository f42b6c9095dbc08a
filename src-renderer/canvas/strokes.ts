// Mask strokes as plain data. A stroke is what one pointer gesture (or one command such as "load a
// mask" or "invert") adds to the mask; the mask is the strokes rasterised in order
// (mask-raster.ts). Coordinates are image pixels, points are flat [x0, y0, x1, y1, …] arrays.
// Pure module (no DOM), shared by the canvas, the history and the unit tests.
import { z } from 'zod';

const Coord = z.number().finite().min(-100_000).max(100_000);
/** Diameter of the brush in image pixels. */
const BrushSize = z.number().finite().min(1).max(2048);
/** 1 = hard edge; 0 = the whole radius fades out (feather). */
const Hardness = z.number().min(0).max(1);
const Points = z.array(Coord).min(2).max(200_000).refine((p) => p.length % 2 === 0, 'points come in x, y pairs');

export const BrushStroke = z.strictObject({ type: z.literal('brush'), points: Points, size: BrushSize, hardness: Hardness });
export const EraserStroke = z.strictObject({ type: z.literal('eraser'), points: Points, size: BrushSize, hardness: Hardness });
/** A filled rectangle: paints (add) or clears (erase). */
export const RectStroke = z.strictObject({
  type: z.literal('rect'),
  x: Coord,
  y: Coord,
  width: z.number().finite().min(0).max(100_000),
  height: z.number().finite().min(0).max(100_000),
  mode: z.enum(['add', 'erase']),
});
/**
 * A whole mask image (loaded from a file, or the result of invert): replaces the mask inside its
 * rectangle. `alpha` is base64 of width×height bytes, 255 = repaint.
 */
export const ImageStroke = z.strictObject({
  type: z.literal('image'),
  x: z.int(),
  y: z.int(),
  width: z.int().min(1).max(8192),
  height: z.int().min(1).max(8192),
  alpha: z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'alpha must be base64'),
});

export const Stroke = z.discriminatedUnion('type', [BrushStroke, EraserStroke, RectStroke, ImageStroke]);
export type Stroke = z.infer<typeof Stroke>;
export type LineStroke = z.infer<typeof BrushStroke> | z.infer<typeof EraserStroke>;
export type ImageStrokeData = z.infer<typeof ImageStroke>;

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const BASE64_INDEX = new Map([...BASE64].map((c, i) => [c, i]));

/** Base64 without atob/Buffer, so the same code runs in the page and in Node tests. */
export function bytesToBase64(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i]!;
    const b = bytes[i + 1] ?? 0;
    const c = bytes[i + 2] ?? 0;
    const n = (a << 16) | (b << 8) | c;
    out += BASE64[(n >> 18) & 63]! + BASE64[(n >> 12) & 63]!;
    out += i + 1 < bytes.length ? BASE64[(n >> 6) & 63]! : '=';
    out += i + 2 < bytes.length ? BASE64[n & 63]! : '=';
  }
  return out;
}

export function base64ToBytes(text: string): Uint8Array {
  const clean = text.replace(/=+$/, '');
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let bits = 0;
  let value = 0;
  let o = 0;
  for (const ch of clean) {
    const v = BASE64_INDEX.get(ch);
    if (v === undefined) throw new Error(`not base64: ${JSON.stringify(ch)}`);
    value = (value << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (value >> bits) & 0xff;
    }
  }
  return out;
}

/** An image stroke covering a whole width×height mask. */
export function imageStroke(alpha: Uint8Array, width: number, height: number, x = 0, y = 0): ImageStrokeData {
  if (alpha.length !== width * height) throw new Error(`mask has ${alpha.length} bytes, expected ${width}×${height}`);
  return { type: 'image', x, y, width, height, alpha: bytesToBase64(alpha) };
}

/** The stroke moved by (dx, dy): an outpaint that grows the image left or up shifts the old pixels. */
export function translateStroke(stroke: Stroke, dx: number, dy: number): Stroke {
  switch (stroke.type) {
    case 'brush':
    case 'eraser':
      return { ...stroke, points: stroke.points.map((v, i) => v + (i % 2 === 0 ? dx : dy)) };
    case 'rect':
    case 'image':
      return { ...stroke, x: stroke.x + dx, y: stroke.y + dy };
  }
}
