// Shared test helpers: throwaway data folders and real PNG bytes.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import type { TestContext } from 'node:test';
import { greyscalePng } from '../../../src-main/engine/image/png-chunks';

export function tempDataDir(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-store-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A valid greyscale PNG of the given size whose pixels depend on `seed` (so hashes differ). */
export function makePng(width: number, height: number, seed: number): Uint8Array {
  return greyscalePng(width, height, (x, y) => seed * 31 + x * 7 + y * 13);
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function fileSha256(file: string): string {
  return sha256(fs.readFileSync(file));
}

/** Every non-temp file under <dataDir>/images, as data-folder-relative paths. */
export function imageFiles(dataDir: string): string[] {
  const root = path.join(dataDir, 'images');
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && !entry.name.startsWith('.tmp-'))
    .map((entry) => path.relative(dataDir, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'))
    .sort();
}
