// EXIF for JPEG and WebP exports, written by hand because libvips (sharp's withExif) stores
// UserComment as ASCII and replaces every non-ASCII character of a prompt with '?'.
//
// The block is a big-endian TIFF (as A1111 writes through piexif): IFD0 → Exif IFD holding
//   UserComment (0x9286): "UNICODE\0" + UTF-16BE of the A1111 `parameters` text (what Civitai and
//                         A1111's PNG-info read from JPEG/WebP), and
//   MakerNote   (0x927C): "Atelier\0" + UTF-8 of Atelier's JSON, when there is room for it.
// JPEG carries it in an APP1 "Exif\0\0" segment (at most 65,535 bytes); WebP in an EXIF chunk of the
// extended (VP8X) format.
import { concatBytes } from '../engine/image/bytes';

const EXIF_IFD_POINTER = 0x8769;
const SOFTWARE = 0x0131;
const USER_COMMENT = 0x9286;
const MAKER_NOTE = 0x927c;
const TYPE_ASCII = 2;
const TYPE_LONG = 4;
const TYPE_UNDEFINED = 7;

const UNICODE_PREFIX = Uint8Array.from([0x55, 0x4e, 0x49, 0x43, 0x4f, 0x44, 0x45, 0x00]); // "UNICODE\0"
const MAKER_PREFIX = new TextEncoder().encode('Atelier\0');
/** Largest TIFF block an APP1 segment holds: 65,535 − 2 (length) − 6 ("Exif\0\0"). */
export const MAX_JPEG_EXIF_BYTES = 65_535 - 2 - 6;

export interface ExifText {
  /** The A1111 parameters text. */
  userComment: string | null;
  /** Atelier's JSON. */
  atelierJson: string | null;
  software?: string | null;
}

function utf16be(text: string): Uint8Array {
  const out = new Uint8Array(text.length * 2);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    out[2 * i] = c >> 8;
    out[2 * i + 1] = c & 0xff;
  }
  return out;
}

interface Entry {
  tag: number;
  type: number;
  data: Uint8Array;
}

/** Lays out one IFD at `start` with its out-of-line values after it; returns its bytes. */
function ifd(entries: Entry[], start: number): Uint8Array {
  entries.sort((a, b) => a.tag - b.tag);
  const headerBytes = 2 + entries.length * 12 + 4;
  let dataAt = start + headerBytes;
  const head = new Uint8Array(headerBytes);
  const view = new DataView(head.buffer);
  view.setUint16(0, entries.length);
  const tail: Uint8Array[] = [];
  entries.forEach((e, i) => {
    const at = 2 + i * 12;
    view.setUint16(at, e.tag);
    view.setUint16(at + 2, e.type);
    const unit = e.type === TYPE_LONG ? 4 : 1;
    view.setUint32(at + 4, e.data.length / unit);
    if (e.data.length <= 4) head.set(e.data, at + 8);
    else {
      view.setUint32(at + 8, dataAt);
      const padded = e.data.length % 2 ? concatBytes([e.data, new Uint8Array(1)]) : e.data;
      tail.push(padded);
      dataAt += padded.length;
    }
  });
  view.setUint32(headerBytes - 4, 0); // no next IFD
  return concatBytes([head, ...tail]);
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}

/** A TIFF/EXIF block; `maxBytes` leaves the JSON out when the whole would not fit. */
export function buildExif(text: ExifText, maxBytes = Infinity): Uint8Array {
  const build = (withJson: boolean): Uint8Array => {
    const exifEntries: Entry[] = [];
    if (text.userComment !== null) exifEntries.push({ tag: USER_COMMENT, type: TYPE_UNDEFINED, data: concatBytes([UNICODE_PREFIX, utf16be(text.userComment)]) });
    if (withJson && text.atelierJson !== null) {
      exifEntries.push({ tag: MAKER_NOTE, type: TYPE_UNDEFINED, data: concatBytes([MAKER_PREFIX, new TextEncoder().encode(text.atelierJson)]) });
    }
    const ifd0Entries: Entry[] = [{ tag: EXIF_IFD_POINTER, type: TYPE_LONG, data: u32(0) }];
    if (text.software) ifd0Entries.push({ tag: SOFTWARE, type: TYPE_ASCII, data: Uint8Array.from(`${text.software.replace(/[^\x20-\x7e]/g, '?')}\0`, (c) => c.charCodeAt(0)) });
    // IFD0's size does not depend on the pointer's value: lay it out once to learn where the Exif IFD starts.
    const exifStart = 8 + ifd(ifd0Entries.map((e) => ({ ...e })), 8).length;
    ifd0Entries[0]!.data = u32(exifStart);
    const header = Uint8Array.from([0x4d, 0x4d, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x08]); // "MM", 42, IFD0 at 8
    return concatBytes([header, ifd(ifd0Entries, 8), ifd(exifEntries, exifStart)]);
  };
  const full = build(true);
  if (full.length <= maxBytes) return full;
  const lean = build(false);
  if (lean.length <= maxBytes) return lean;
  throw new Error(`the image parameters need ${lean.length} bytes of EXIF, more than the ${maxBytes} this format holds`);
}

function decodeUserComment(bytes: Uint8Array, littleEndian: boolean): string {
  const prefix = String.fromCharCode(...bytes.subarray(0, 8)).replace(/\0+$/, '');
  const body = bytes.subarray(8);
  if (prefix === 'UNICODE') {
    // Byte order of the TIFF, unless a BOM says otherwise.
    let le = littleEndian;
    let start = 0;
    if (body[0] === 0xfe && body[1] === 0xff) [le, start] = [false, 2];
    else if (body[0] === 0xff && body[1] === 0xfe) [le, start] = [true, 2];
    return new TextDecoder(le ? 'utf-16le' : 'utf-16be').decode(body.subarray(start)).replace(/\0+$/, '');
  }
  return new TextDecoder().decode(body).replace(/\0+$/, '');
}

/** Reads UserComment and Atelier's MakerNote from a TIFF block (with or without "Exif\0\0"). */
export function parseExif(block: Uint8Array): ExifText {
  let tiff = block;
  if (String.fromCharCode(...tiff.subarray(0, 6)) === 'Exif\0\0') tiff = tiff.subarray(6);
  const out: ExifText = { userComment: null, atelierJson: null, software: null };
  if (tiff.length < 8) return out;
  const order = String.fromCharCode(tiff[0]!, tiff[1]!);
  if (order !== 'II' && order !== 'MM') return out;
  const le = order === 'II';
  const view = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  const entriesOf = (offset: number): { tag: number; type: number; count: number; value: Uint8Array }[] => {
    if (offset + 2 > tiff.length) return [];
    const n = view.getUint16(offset, le);
    const list = [];
    for (let i = 0; i < n; i++) {
      const at = offset + 2 + i * 12;
      if (at + 12 > tiff.length) break;
      const tag = view.getUint16(at, le);
      const type = view.getUint16(at + 2, le);
      const count = view.getUint32(at + 4, le);
      const size = count * (type === TYPE_LONG ? 4 : type === 3 ? 2 : 1);
      const start = size <= 4 ? at + 8 : view.getUint32(at + 8, le);
      if (start + size > tiff.length) continue;
      list.push({ tag, type, count, value: tiff.subarray(start, start + size) });
    }
    return list;
  };
  const ifd0 = entriesOf(view.getUint32(4, le));
  const software = ifd0.find((e) => e.tag === SOFTWARE);
  if (software) out.software = new TextDecoder().decode(software.value).replace(/\0+$/, '');
  const pointer = ifd0.find((e) => e.tag === EXIF_IFD_POINTER);
  if (!pointer) return out;
  const exifOffset = new DataView(pointer.value.buffer, pointer.value.byteOffset, 4).getUint32(0, le);
  for (const e of entriesOf(exifOffset)) {
    if (e.tag === USER_COMMENT) out.userComment = decodeUserComment(e.value, le);
    if (e.tag === MAKER_NOTE && MAKER_PREFIX.every((b, i) => e.value[i] === b)) {
      out.atelierJson = new TextDecoder().decode(e.value.subarray(MAKER_PREFIX.length));
    }
  }
  return out;
}

// ---- JPEG -------------------------------------------------------------------------------------

interface Segment {
  marker: number;
  start: number;
  end: number;
}

/** The segments before the scan data (SOS and what follows are left alone). */
function jpegSegments(jpeg: Uint8Array): { segments: Segment[]; scanStart: number } {
  if (jpeg[0] !== 0xff || jpeg[1] !== 0xd8) throw new Error('not a JPEG file (no SOI marker)');
  const segments: Segment[] = [];
  let at = 2;
  while (at + 4 <= jpeg.length) {
    if (jpeg[at] !== 0xff) throw new Error(`damaged JPEG: expected a marker at byte ${at}`);
    const marker = jpeg[at + 1]!;
    if (marker === 0xda) return { segments, scanStart: at };
    const length = (jpeg[at + 2]! << 8) | jpeg[at + 3]!;
    segments.push({ marker, start: at, end: at + 2 + length });
    at += 2 + length;
  }
  throw new Error('damaged JPEG: no scan data');
}

const isExifSegment = (jpeg: Uint8Array, s: Segment): boolean =>
  s.marker === 0xe1 && String.fromCharCode(...jpeg.subarray(s.start + 4, s.start + 10)) === 'Exif\0\0';

/** The JPEG with its EXIF replaced by `tiff` (placed after a JFIF APP0 if there is one). */
export function jpegWithExif(jpeg: Uint8Array, tiff: Uint8Array): Uint8Array {
  if (tiff.length > MAX_JPEG_EXIF_BYTES) throw new Error(`EXIF block of ${tiff.length} bytes does not fit a JPEG APP1 segment`);
  const { segments } = jpegSegments(jpeg);
  const app1 = new Uint8Array(4 + 6 + tiff.length);
  app1.set([0xff, 0xe1, (app1.length - 2) >> 8, (app1.length - 2) & 0xff]);
  app1.set(new TextEncoder().encode('Exif\0\0'), 4);
  app1.set(tiff, 10);
  const parts: Uint8Array[] = [jpeg.subarray(0, 2)];
  let rest = 2;
  const first = segments[0];
  if (first && first.marker === 0xe0) {
    parts.push(jpeg.subarray(first.start, first.end));
    rest = first.end;
  }
  parts.push(app1);
  for (const s of segments) {
    if (s.start < rest) continue;
    if (isExifSegment(jpeg, s)) continue;
    parts.push(jpeg.subarray(s.start, s.end));
  }
  const last = segments[segments.length - 1];
  parts.push(jpeg.subarray(Math.max(rest, last ? last.end : 2)));
  return concatBytes(parts);
}

export function readJpegExif(jpeg: Uint8Array): Uint8Array | null {
  const { segments } = jpegSegments(jpeg);
  const s = segments.find((seg) => isExifSegment(jpeg, seg));
  return s ? jpeg.subarray(s.start + 10, s.end) : null;
}

// ---- WebP -------------------------------------------------------------------------------------

interface RiffChunk {
  fourcc: string;
  data: Uint8Array;
}

function webpChunks(webp: Uint8Array): RiffChunk[] {
  const tag = (at: number) => String.fromCharCode(...webp.subarray(at, at + 4));
  if (webp.length < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WEBP') throw new Error('not a WebP file (no RIFF/WEBP header)');
  const view = new DataView(webp.buffer, webp.byteOffset, webp.byteLength);
  const end = Math.min(webp.length, 8 + view.getUint32(4, true));
  const chunks: RiffChunk[] = [];
  let at = 12;
  while (at + 8 <= end) {
    const size = view.getUint32(at + 4, true);
    if (at + 8 + size > end) throw new Error(`damaged WebP: chunk ${tag(at)} runs past the end`);
    chunks.push({ fourcc: tag(at), data: webp.subarray(at + 8, at + 8 + size) });
    at += 8 + size + (size % 2);
  }
  return chunks;
}

function riff(chunks: RiffChunk[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const c of chunks) {
    const head = new Uint8Array(8);
    head.set(new TextEncoder().encode(c.fourcc));
    new DataView(head.buffer).setUint32(4, c.data.length, true);
    parts.push(head, c.data);
    if (c.data.length % 2) parts.push(new Uint8Array(1));
  }
  const body = concatBytes(parts);
  const header = new Uint8Array(12);
  header.set(new TextEncoder().encode('RIFF'));
  new DataView(header.buffer).setUint32(4, 4 + body.length, true);
  header.set(new TextEncoder().encode('WEBP'), 8);
  return concatBytes([header, body]);
}

/** The WebP with its EXIF replaced by `tiff`, turned into the extended format if it was simple. */
export function webpWithExif(webp: Uint8Array, tiff: Uint8Array, size: { width: number; height: number }): Uint8Array {
  const chunks = webpChunks(webp).filter((c) => c.fourcc !== 'EXIF');
  let vp8x = chunks.find((c) => c.fourcc === 'VP8X');
  if (!vp8x) {
    const data = new Uint8Array(10);
    const w = size.width - 1;
    const h = size.height - 1;
    data.set([w & 0xff, (w >> 8) & 0xff, (w >> 16) & 0xff, h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff], 4);
    vp8x = { fourcc: 'VP8X', data };
    chunks.unshift(vp8x);
  } else {
    vp8x.data = Uint8Array.from(vp8x.data);
  }
  vp8x.data[0] = vp8x.data[0]! | 0x08; // EXIF present
  // EXIF goes after the image data and before XMP.
  const xmpAt = chunks.findIndex((c) => c.fourcc === 'XMP ');
  chunks.splice(xmpAt < 0 ? chunks.length : xmpAt, 0, { fourcc: 'EXIF', data: tiff });
  return riff(chunks);
}

export function readWebpExif(webp: Uint8Array): Uint8Array | null {
  return webpChunks(webp).find((c) => c.fourcc === 'EXIF')?.data ?? null;
}
