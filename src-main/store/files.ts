// Content-addressed image files under <dataDir>/images/ab/cdef… (sha256, first two hex digits as
// the folder). A file becomes visible under its final name only complete and on disk (the durable
// write of ../fs/durable: temp file → fsync → rename → fsync the folder). Temp names carry the
// writer's pid so a later open can tell abandoned ones apart.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { tempWriterIsGone, writeThroughTemp } from '../fs/durable';

export const IMAGES_FOLDER = 'images';
const TEMP_PREFIX = '.tmp-';

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

const EXTENSIONS: Record<string, string> = {
  'image/png': '.png',
  'image/jpeg': '.jpg',
  'image/webp': '.webp',
};

export function extensionFor(mime: string): string {
  return EXTENSIONS[mime] ?? '.bin';
}

/** Data-folder-relative path (forward slashes) of the file holding these bytes. */
export function relativeAssetPath(sha256: string, mime: string): string {
  return `${IMAGES_FOLDER}/${sha256.slice(0, 2)}/${sha256.slice(2)}${extensionFor(mime)}`;
}

function fileHasContent(file: string, data: Uint8Array, sha256: string): boolean {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    return false;
  }
  if (!stat.isFile() || stat.size !== data.byteLength) return false;
  return sha256Hex(fs.readFileSync(file)) === sha256;
}

/**
 * Makes `absolutePath` hold exactly `data`, durably. An existing identical file is reused as is;
 * anything else at that name (a damaged copy) is replaced atomically.
 */
export function writeFileDurably(absolutePath: string, data: Uint8Array, sha256: string): void {
  if (fileHasContent(absolutePath, data, sha256)) return;
  writeThroughTemp(absolutePath, data, TEMP_PREFIX);
}

export interface ImageFile {
  /** Data-folder-relative, forward slashes. */
  relativePath: string;
  absolutePath: string;
  mtimeMs: number;
}

/** Walks images/ab/…: calls back for finished files and returns the temp files it met. */
export function scanImages(dataDir: string, onFile: (file: ImageFile) => void): string[] {
  const root = path.join(dataDir, IMAGES_FOLDER);
  const temps: string[] = [];
  let shards: fs.Dirent[];
  try {
    shards = fs.readdirSync(root, { withFileTypes: true });
  } catch {
    return temps;
  }
  for (const shard of shards) {
    if (!shard.isDirectory()) continue;
    const shardDir = path.join(root, shard.name);
    for (const entry of fs.readdirSync(shardDir, { withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const absolutePath = path.join(shardDir, entry.name);
      if (entry.name.startsWith(TEMP_PREFIX)) {
        temps.push(absolutePath);
        continue;
      }
      let mtimeMs = 0;
      try {
        mtimeMs = fs.statSync(absolutePath).mtimeMs;
      } catch {
        continue;
      }
      onFile({ relativePath: `${IMAGES_FOLDER}/${shard.name}/${entry.name}`, absolutePath, mtimeMs });
    }
  }
  return temps;
}

/** Removes temp files whose writer process is gone (a crash mid-write); returns how many. */
export function removeAbandonedTempFiles(dataDir: string): number {
  let removed = 0;
  for (const temp of scanImages(dataDir, () => {})) {
    if (!tempWriterIsGone(path.basename(temp), TEMP_PREFIX)) continue;
    fs.rmSync(temp, { force: true });
    removed++;
  }
  return removed;
}

/** Width and height from a PNG's IHDR, or null for anything else. */
export function pngSize(data: Uint8Array): { width: number; height: number } | null {
  if (!isPng(data) || data.byteLength < 24) return null;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

function isPng(data: Uint8Array): boolean {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  return data.byteLength >= 8 && signature.every((byte, i) => data[i] === byte);
}

/** The mime type from the leading bytes (PNG, JPEG, WebP), or null. */
export function sniffMime(data: Uint8Array): string | null {
  if (isPng(data)) return 'image/png';
  if (data.byteLength >= 3 && data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff) return 'image/jpeg';
  if (
    data.byteLength >= 12 &&
    String.fromCharCode(...data.subarray(0, 4)) === 'RIFF' &&
    String.fromCharCode(...data.subarray(8, 12)) === 'WEBP'
  ) {
    return 'image/webp';
  }
  return null;
}
