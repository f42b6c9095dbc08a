// Rasterises mask strokes into one byte per image pixel (0 = keep, 255 = repaint). The canvas shows
// this raster and sends it as the inpaint mask, so what the person sees is what the engine gets.
// Pure module (no DOM): the unit tests run it in Node.
import type { LineStroke, Stroke } from './strokes';
import { base64ToBytes } from './strokes';

/** Coverage of one line stroke at distance d from its centre line, radius r (0…1). */
export function lineCoverage(d: number, radius: number, hardness: number): number {
  if (d >= radius) return 0;
  const solid = radius * hardness;
  if (d <= solid) return 1;
  return (radius - d) / (radius - solid);
}

function distanceToSegment(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax;
  const dy = by - ay;
  const len2 = dx * dx + dy * dy;
  let t = len2 === 0 ? 0 : ((px - ax) * dx + (py - ay) * dy) / len2;
  t = t < 0 ? 0 : t > 1 ? 1 : t;
  const cx = ax + t * dx - px;
  const cy = ay + t * dy - py;
  return Math.sqrt(cx * cx + cy * cy);
}

function applyLine(mask: Uint8Array, width: number, height: number, stroke: LineStroke): void {
  const r = stroke.size / 2;
  const p = stroke.points;
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (let i = 0; i < p.length; i += 2) {
    minX = Math.min(minX, p[i]!); maxX = Math.max(maxX, p[i]!);
    minY = Math.min(minY, p[i + 1]!); maxY = Math.max(maxY, p[i + 1]!);
  }
  const x0 = Math.max(0, Math.floor(minX - r));
  const y0 = Math.max(0, Math.floor(minY - r));
  const x1 = Math.min(width, Math.ceil(maxX + r));
  const y1 = Math.min(height, Math.ceil(maxY + r));
  if (x0 >= x1 || y0 >= y1) return;
  const bw = x1 - x0;
  // Nearest distance to the whole polyline per pixel, so overlapping segments of one stroke do not
  // paint twice (a feathered stroke stays as soft where it crosses itself).
  const nearest = new Float32Array(bw * (y1 - y0)).fill(Infinity);
  const segments = Math.max(1, p.length / 2 - 1);
  for (let s = 0; s < segments; s++) {
    const ax = p[s * 2]!, ay = p[s * 2 + 1]!;
    const bx = p[Math.min(s * 2 + 2, p.length - 2)]!, by = p[Math.min(s * 2 + 3, p.length - 1)]!;
    const sx0 = Math.max(x0, Math.floor(Math.min(ax, bx) - r));
    const sx1 = Math.min(x1, Math.ceil(Math.max(ax, bx) + r));
    const sy0 = Math.max(y0, Math.floor(Math.min(ay, by) - r));
    const sy1 = Math.min(y1, Math.ceil(Math.max(ay, by) + r));
    for (let y = sy0; y < sy1; y++) {
      for (let x = sx0; x < sx1; x++) {
        const d = distanceToSegment(x + 0.5, y + 0.5, ax, ay, bx, by);
        const k = (y - y0) * bw + (x - x0);
        if (d < nearest[k]!) nearest[k] = d;
      }
    }
  }
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const c = lineCoverage(nearest[(y - y0) * bw + (x - x0)]!, r, stroke.hardness);
      if (c === 0) continue;
      const i = y * width + x;
      const m = mask[i]!;
      mask[i] = stroke.type === 'brush' ? Math.round(m + c * (255 - m)) : Math.round(m * (1 - c));
    }
  }
}

/** Applies one stroke to a mask in place. */
export function applyStroke(mask: Uint8Array, width: number, height: number, stroke: Stroke): void {
  if (mask.length !== width * height) throw new Error(`mask buffer has ${mask.length} bytes for ${width}×${height}`);
  switch (stroke.type) {
    case 'brush':
    case 'eraser':
      applyLine(mask, width, height, stroke);
      return;
    case 'rect': {
      // Pixels whose centre lies inside the rectangle.
      const x0 = Math.max(0, Math.ceil(stroke.x - 0.5));
      const y0 = Math.max(0, Math.ceil(stroke.y - 0.5));
      const x1 = Math.min(width, Math.ceil(stroke.x + stroke.width - 0.5));
      const y1 = Math.min(height, Math.ceil(stroke.y + stroke.height - 0.5));
      const value = stroke.mode === 'add' ? 255 : 0;
      for (let y = y0; y < y1; y++) mask.fill(value, y * width + x0, y * width + Math.max(x0, x1));
      return;
    }
    case 'image': {
      const alpha = base64ToBytes(stroke.alpha);
      if (alpha.length !== stroke.width * stroke.height) {
        throw new Error(`image stroke holds ${alpha.length} bytes, expected ${stroke.width}×${stroke.height}`);
      }
      for (let sy = 0; sy < stroke.height; sy++) {
        const y = stroke.y + sy;
        if (y < 0 || y >= height) continue;
        for (let sx = 0; sx < stroke.width; sx++) {
          const x = stroke.x + sx;
          if (x >= 0 && x < width) mask[y * width + x] = alpha[sy * stroke.width + sx]!;
        }
      }
      return;
    }
  }
}

export function rasterise(strokes: readonly Stroke[], width: number, height: number): Uint8Array {
  const mask = new Uint8Array(width * height);
  for (const stroke of strokes) applyStroke(mask, width, height, stroke);
  return mask;
}

export function invertMask(mask: Uint8Array): Uint8Array {
  return mask.map((v) => 255 - v);
}

/** Pixels the engine will repaint (it thresholds at 50 %). */
export function maskedCount(mask: Uint8Array): number {
  let n = 0;
  for (const v of mask) if (v >= 128) n++;
  return n;
}

/**
 * Keeps the raster of the last stroke list: appending strokes (the common case, one per
 * pointer-up) only rasterises the new ones; anything else (undo, clear) starts again.
 */
export class MaskRaster {
  private strokes: readonly Stroke[] = [];
  private data: Uint8Array;

  constructor(readonly width: number, readonly height: number) {
    this.data = new Uint8Array(width * height);
  }

  update(strokes: readonly Stroke[]): Uint8Array {
    const appended = strokes.length >= this.strokes.length && this.strokes.every((s, i) => strokes[i] === s);
    if (!appended) {
      this.data = new Uint8Array(this.width * this.height);
      this.strokes = [];
    }
    if (strokes.length > this.strokes.length) {
      this.data = Uint8Array.from(this.data); // callers may hold the previous array
      for (const stroke of strokes.slice(this.strokes.length)) applyStroke(this.data, this.width, this.height, stroke);
    }
    this.strokes = strokes;
    return this.data;
  }
}
