// Image files in and out through sharp. Any format sharp decodes is accepted; alpha is flattened on
// white (the usual look of a transparent PNG); inputs of another size are stretched to the model's
// size with a notice (stretching keeps every pixel's position proportional, which inpainting relies
// on to map results back onto the original).
import sharp from 'sharp';
import type { RgbImage } from './pixels';

export type ImageInput = string | Uint8Array;

export async function decodeImage(input: ImageInput): Promise<RgbImage> {
  try {
    const { data, info } = await sharp(input).rotate().flatten({ background: '#ffffff' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  } catch (e) {
    const what = typeof input === 'string' ? `'${input}'` : 'the image data';
    throw new Error(`cannot read ${what} as an image: ${(e as Error).message}`);
  }
}

/** Resizes when needed; `notice` says what happened. */
export async function fitImage(img: RgbImage, width: number, height: number, label = 'image'): Promise<{ image: RgbImage; notice?: string }> {
  if (img.width === width && img.height === height) return { image: img };
  const image = await resizeRgb(img, width, height);
  return { image, notice: `${label} resized from ${img.width}×${img.height} to ${width}×${height} (the model's size)` };
}

export async function resizeRgb(img: RgbImage, width: number, height: number): Promise<RgbImage> {
  const { data } = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(width, height, { fit: 'fill', kernel: 'lanczos3' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width, height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

/** Plain PNG bytes (no metadata). */
export async function encodePng(img: RgbImage, opts: { compressionLevel?: number } = {}): Promise<Uint8Array> {
  const buf = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .png({ compressionLevel: opts.compressionLevel ?? 6 })
    .toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
}

/** Grey levels of a mask image (alpha ignored, colour converted to luminance). */
export async function decodeGray(input: ImageInput): Promise<{ width: number; height: number; data: Uint8Array }> {
  try {
    const { data, info } = await sharp(input).rotate().flatten({ background: '#000000' }).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 1) throw new Error(`expected 1 channel, got ${info.channels}`);
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  } catch (e) {
    const what = typeof input === 'string' ? `'${input}'` : 'the mask data';
    throw new Error(`cannot read ${what} as a mask image: ${(e as Error).message}`);
  }
}
