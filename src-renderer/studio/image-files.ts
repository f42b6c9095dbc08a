// Browser-side image plumbing: masks to PNG, files to PNG data URLs, mask files to alpha bytes.
// (DOM only; the pure parts live in ../canvas.)

function canvasOf(width: number, height: number): { canvas: HTMLCanvasElement; ctx: CanvasRenderingContext2D } {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('this browser cannot draw on a canvas');
  return { canvas, ctx };
}

/** A grey PNG (white = repaint) of the mask, the size of the image: what inpaint sends. */
export function maskToPngDataUrl(mask: Uint8Array, width: number, height: number): string {
  const { canvas, ctx } = canvasOf(width, height);
  const pixels = ctx.createImageData(width, height);
  for (let i = 0; i < mask.length; i++) {
    const v = mask[i]!;
    pixels.data[i * 4] = v;
    pixels.data[i * 4 + 1] = v;
    pixels.data[i * 4 + 2] = v;
    pixels.data[i * 4 + 3] = 255;
  }
  ctx.putImageData(pixels, 0, 0);
  return canvas.toDataURL('image/png');
}

async function decode(file: Blob, what: string): Promise<ImageBitmap> {
  try {
    return await createImageBitmap(file);
  } catch {
    throw new Error(`${what} could not be read as an image (is it a PNG, JPEG or WebP?)`);
  }
}

export function readAsDataUrl(file: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(new Error('the file could not be read'));
    reader.readAsDataURL(file);
  });
}

/** Any image file as a PNG data URL (PNGs pass unchanged, keeping their parameters). */
export async function fileToPng(file: File): Promise<{ png: string; width: number; height: number }> {
  const bitmap = await decode(file, file.name || 'the file');
  const { width, height } = bitmap;
  if (file.type === 'image/png') {
    bitmap.close();
    return { png: await readAsDataUrl(file), width, height };
  }
  const { canvas, ctx } = canvasOf(width, height);
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  return { png: canvas.toDataURL('image/png'), width, height };
}

/**
 * A mask from an image file, stretched to the image size: brightness × opacity, so both white-on-
 * black masks and transparent PNGs with painted areas work.
 */
export async function maskFromFile(file: File, width: number, height: number): Promise<Uint8Array> {
  const bitmap = await decode(file, file.name || 'the mask file');
  const { ctx } = canvasOf(width, height);
  ctx.drawImage(bitmap, 0, 0, width, height);
  bitmap.close();
  const data = ctx.getImageData(0, 0, width, height).data;
  const alpha = new Uint8Array(width * height);
  for (let i = 0; i < alpha.length; i++) {
    const lum = 0.299 * data[i * 4]! + 0.587 * data[i * 4 + 1]! + 0.114 * data[i * 4 + 2]!;
    alpha[i] = Math.round((lum * data[i * 4 + 3]!) / 255);
  }
  return alpha;
}

/** A data URL as a File, without fetch (the page's CSP allows no data: connections). */
export function dataUrlToFile(dataUrl: string, name: string): File {
  const comma = dataUrl.indexOf(',');
  const type = /^data:([^;,]+)/.exec(dataUrl)?.[1] ?? 'application/octet-stream';
  const binary = atob(dataUrl.slice(comma + 1));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return new File([bytes], name, { type });
}
