// Text chunks in PNG files: tEXt (Latin-1) and iTXt (UTF-8, uncompressed or zlib) written before
// IEND, and read back from any PNG. Chunk layout and CRC per the PNG specification.
import { deflateSync, inflateSync } from 'node:zlib';
import { concatBytes } from './bytes';

const SIGNATURE = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

interface Chunk {
  type: string;
  data: Uint8Array;
  /** Offset of the chunk's length field in the file. */
  offset: number;
}

export function readChunks(png: Uint8Array): Chunk[] {
  if (png.length < 8 || !SIGNATURE.every((b, i) => png[i] === b)) throw new Error('not a PNG file (bad signature)');
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const chunks: Chunk[] = [];
  let pos = 8;
  while (pos + 12 <= png.length) {
    const length = view.getUint32(pos);
    const type = String.fromCharCode(...png.subarray(pos + 4, pos + 8));
    if (pos + 12 + length > png.length) throw new Error(`PNG chunk ${type} runs past the end of the file`);
    chunks.push({ type, data: png.subarray(pos + 8, pos + 8 + length), offset: pos });
    pos += 12 + length;
    if (type === 'IEND') break;
  }
  return chunks;
}

/** One chunk: length, type, data, CRC of type and data. */
export function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

const isLatin1 = (s: string): boolean => [...s].every((ch) => ch.codePointAt(0)! <= 0xff && ch !== '\0');

function latin1(s: string): Uint8Array {
  return Uint8Array.from(s, (ch) => ch.charCodeAt(0));
}

export function textChunk(keyword: string, text: string): Uint8Array {
  return pngChunk('tEXt', concatBytes([latin1(keyword), Uint8Array.of(0), latin1(text)]));
}

export function itxtChunk(keyword: string, text: string): Uint8Array {
  // keyword \0 compression-flag compression-method language-tag \0 translated-keyword \0 text
  return pngChunk('iTXt', concatBytes([latin1(keyword), Uint8Array.of(0, 0, 0, 0, 0), new TextEncoder().encode(text)]));
}

/** A valid 8-bit greyscale PNG whose pixel (x, y) is `valueAt(x, y)` (taken modulo 256). */
export function greyscalePng(width: number, height: number, valueAt: (x: number, y: number) => number): Uint8Array {
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header[8] = 8; // bit depth
  header[9] = 0; // greyscale
  const scanlines = new Uint8Array(height * (width + 1)); // each row: filter byte 0, then the pixels
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) scanlines[y * (width + 1) + 1 + x] = valueAt(x, y) & 0xff;
  }
  return concatBytes([SIGNATURE, pngChunk('IHDR', header), pngChunk('IDAT', deflateSync(scanlines)), pngChunk('IEND', new Uint8Array(0))]);
}

export interface TextEntry {
  keyword: string;
  text: string;
}

/**
 * Returns a copy of `png` with the entries added before IEND, replacing existing text chunks of
 * the same keywords. Latin-1 text goes in tEXt (what most readers expect), anything else in iTXt.
 */
export function withTextChunks(png: Uint8Array, entries: TextEntry[], opts: { forceItxt?: string[] } = {}): Uint8Array {
  const chunks = readChunks(png);
  const replaced = new Set(entries.map((e) => e.keyword));
  const kept = chunks.filter((c) => {
    if (c.type !== 'tEXt' && c.type !== 'iTXt') return true;
    return !replaced.has(decodeText(c)?.keyword ?? '');
  });
  const added = entries.map((e) =>
    isLatin1(e.text) && !opts.forceItxt?.includes(e.keyword) ? textChunk(e.keyword, e.text) : itxtChunk(e.keyword, e.text),
  );
  const parts: Uint8Array[] = [SIGNATURE];
  for (const c of kept) {
    if (c.type === 'IEND') parts.push(...added);
    parts.push(png.subarray(c.offset, c.offset + 12 + c.data.length));
  }
  return concatBytes(parts);
}

function latin1Text(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

function decodeText(c: Chunk): TextEntry | null {
  const nul = c.data.indexOf(0);
  if (nul < 0) return null;
  const keyword = latin1Text(c.data.subarray(0, nul));
  if (c.type === 'tEXt') return { keyword, text: latin1Text(c.data.subarray(nul + 1)) };
  if (c.type === 'zTXt') return { keyword, text: latin1Text(inflateSync(c.data.subarray(nul + 2))) };
  // iTXt
  const compressed = c.data[nul + 1] === 1;
  let at = nul + 3;
  const langEnd = c.data.indexOf(0, at);
  if (langEnd < 0) return null;
  const transEnd = c.data.indexOf(0, langEnd + 1);
  if (transEnd < 0) return null;
  at = transEnd + 1;
  const body = c.data.subarray(at);
  return { keyword, text: new TextDecoder().decode(compressed ? inflateSync(body) : body) };
}

/** All tEXt, zTXt and iTXt entries of a PNG, in file order. */
export function readTextChunks(png: Uint8Array): TextEntry[] {
  const out: TextEntry[] = [];
  for (const c of readChunks(png)) {
    if (c.type === 'tEXt' || c.type === 'iTXt' || c.type === 'zTXt') {
      const e = decodeText(c);
      if (e) out.push(e);
    }
  }
  return out;
}
