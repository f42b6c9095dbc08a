// One image in the export format with its parameters inside: PNG keeps the engine's `parameters`
// and `atelier` text chunks; JPEG and WebP carry the same two texts in EXIF (see exif.ts).
import sharp from 'sharp';
import type { A1111Parameters, AtelierMetadata } from '../engine';
import { parseA1111, readMetadata } from '../engine';
import { withTextChunks } from '../engine/image/png-chunks';
import { buildExif, jpegWithExif, MAX_JPEG_EXIF_BYTES, parseExif, readJpegExif, readWebpExif, webpWithExif } from './exif';

export const EXPORT_FORMATS = ['png', 'jpeg', 'webp'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export function isExportFormat(value: string): value is ExportFormat {
  return (EXPORT_FORMATS as readonly string[]).includes(value);
}

export const EXTENSION: Record<ExportFormat, string> = { png: '.png', jpeg: '.jpg', webp: '.webp' };
export const MIME: Record<ExportFormat, string> = { png: 'image/png', jpeg: 'image/jpeg', webp: 'image/webp' };

/** The two texts written into every exported image. */
export interface EmbeddedText {
  /** A1111 `parameters` text. */
  parameters: string | null;
  /** Atelier's JSON (AtelierMetadata). */
  atelier: string | null;
}

export interface EncodeOptions {
  /** JPEG/WebP quality, 1–100 (default 92 / 90). */
  quality?: number;
  /** The EXIF Software tag (JPEG/WebP). */
  software?: string;
}

export interface EncodedImage {
  bytes: Uint8Array;
  width: number;
  height: number;
  /** False when the JSON did not fit (JPEG's 64 KB EXIF limit); the A1111 text always does or the call throws. */
  atelierEmbedded: boolean;
}

/** The texts a PNG carries (from the engine), for re-embedding in another format. */
export function embeddedTextOf(png: Uint8Array): EmbeddedText {
  const { raw } = readMetadata(png);
  return { parameters: raw['parameters'] ?? null, atelier: raw['atelier'] ?? null };
}

/**
 * Encodes `source` (any image sharp reads; usually the engine's PNG) as `format` with `text`
 * embedded. A PNG source exported as PNG keeps its pixels byte for byte (only text chunks change).
 */
export async function encodeForExport(source: Uint8Array, format: ExportFormat, text: EmbeddedText, options: EncodeOptions = {}): Promise<EncodedImage> {
  const meta = await sharp(source).metadata();
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  if (format === 'png') {
    const png = meta.format === 'png' ? source : new Uint8Array(await sharp(source).png().toBuffer());
    const entries = [];
    if (text.parameters !== null) entries.push({ keyword: 'parameters', text: text.parameters });
    if (text.atelier !== null) entries.push({ keyword: 'atelier', text: text.atelier });
    const bytes = entries.length ? withTextChunks(png, entries, { forceItxt: ['atelier'] }) : png;
    return { bytes, width, height, atelierEmbedded: text.atelier !== null };
  }
  // Alpha is flattened on white: JPEG has none, and the engine's images have none either.
  const base = sharp(source).flatten({ background: '#ffffff' });
  const encoded =
    format === 'jpeg'
      ? await base.jpeg({ quality: options.quality ?? 92, mozjpeg: false }).toBuffer()
      : await base.webp({ quality: options.quality ?? 90 }).toBuffer();
  const raw = new Uint8Array(encoded.buffer, encoded.byteOffset, encoded.length);
  const exifText = { userComment: text.parameters, atelierJson: text.atelier, software: options.software ?? null };
  const tiff = buildExif(exifText, format === 'jpeg' ? MAX_JPEG_EXIF_BYTES : Infinity);
  const atelierEmbedded = text.atelier !== null && parseExif(tiff).atelierJson !== null;
  const bytes = format === 'jpeg' ? jpegWithExif(raw, tiff) : webpWithExif(raw, tiff, { width, height });
  return { bytes, width, height, atelierEmbedded };
}

export interface ReadBack {
  format: ExportFormat | null;
  parameters: A1111Parameters | null;
  atelier: AtelierMetadata | null;
  /** The raw texts, as stored. */
  text: EmbeddedText;
}

function sniff(bytes: Uint8Array): ExportFormat | null {
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'png';
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return 'jpeg';
  if (String.fromCharCode(...bytes.subarray(0, 4)) === 'RIFF' && String.fromCharCode(...bytes.subarray(8, 12)) === 'WEBP') return 'webp';
  return null;
}

function parseAtelier(json: string | null): AtelierMetadata | null {
  if (json === null) return null;
  try {
    const parsed = JSON.parse(json) as AtelierMetadata;
    return parsed && parsed.app === 'atelier' ? parsed : null;
  } catch {
    return null;
  }
}

/** The parameters inside an exported PNG, JPEG or WebP (nulls when it has none). */
export function readEmbedded(bytes: Uint8Array): ReadBack {
  const format = sniff(bytes);
  let text: EmbeddedText = { parameters: null, atelier: null };
  if (format === 'png') text = embeddedTextOf(bytes);
  else if (format === 'jpeg' || format === 'webp') {
    const block = format === 'jpeg' ? readJpegExif(bytes) : readWebpExif(bytes);
    if (block) {
      const exif = parseExif(block);
      text = { parameters: exif.userComment, atelier: exif.atelierJson };
    }
  }
  return {
    format,
    parameters: text.parameters === null ? null : parseA1111(text.parameters),
    atelier: parseAtelier(text.atelier),
    text,
  };
}
