// Conversions between 8-bit RGB (HWC, what sharp gives and takes) and the graphs' NCHW float32 in
// [-1, 1]. The output mapping is the spec's `round(clamp((y + 1)/2, 0, 1) × 255)` in float64 with
// halves rounded up, as modeling/generate.py's to_pixels does it.

export interface RgbImage {
  width: number;
  height: number;
  /** Interleaved RGB, width·height·3 bytes. */
  data: Uint8Array;
}

export function rgbToPlanar(img: RgbImage): Float32Array {
  const plane = img.width * img.height;
  const out = new Float32Array(3 * plane);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) out[c * plane + p] = Math.fround(img.data[p * 3 + c]! / 127.5) - 1;
  }
  return out;
}

export function toByte(y: number): number {
  const unit = Math.min(Math.max((y + 1) / 2, 0), 1);
  return Math.floor(unit * 255 + 0.5);
}

/** Item `item` of [B, 3, H, W] float pixels → RGB bytes. */
export function planarToRgb(data: Float32Array, width: number, height: number, item = 0): RgbImage {
  const plane = width * height;
  const base = item * 3 * plane;
  const out = new Uint8Array(plane * 3);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) out[p * 3 + c] = toByte(data[base + c * plane + p]!);
  }
  return { width, height, data: out };
}
