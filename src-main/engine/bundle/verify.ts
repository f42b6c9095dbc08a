// File integrity: every file listed in bundle.json must exist with the recorded size and sha256, and
// every file the manifest refers to (graphs, tokenizer, the LoRA weights file) must be listed. Sizes are checked for all
// files before any hashing so a truncated download is reported at once.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { BundleManifest } from './manifest';
import { BundleError, LORA_WEIGHTS_FILE } from './manifest';

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Resolves a bundle-relative path, refusing absolute paths and `..` escapes. */
export function resolveInBundle(dir: string, rel: string): string {
  const full = path.resolve(dir, rel);
  const root = path.resolve(dir) + path.sep;
  if (path.isAbsolute(rel) || !full.startsWith(root)) {
    throw new BundleError(`bundle file path '${rel}' points outside the bundle folder`);
  }
  return full;
}

export interface VerifyOptions {
  /** false skips the sha256 pass (sizes are still checked). */
  hashes?: boolean;
}

export async function verifyBundleFiles(dir: string, m: BundleManifest, opts: VerifyOptions = {}): Promise<void> {
  const listed = new Map(m.files.map((f) => [path.normalize(f.path), f]));
  // A bundle with LoRA graphs has its graphs (dit.onnx included) read the DiT weights from one external-data
  // file (docs/bundle-spec.md, "External data"): it must be listed so its size and sha256 are checked too.
  const referenced = [m.tokenizer.file, ...Object.values(m.graphs).map((g) => g.file), ...(m.lora ? [LORA_WEIGHTS_FILE] : [])];
  for (const ref of referenced) {
    if (!listed.has(path.normalize(ref))) throw new BundleError(`'${ref}' is used by bundle.json but not listed in files[]`);
  }
  for (const f of m.files) {
    const full = resolveInBundle(dir, f.path);
    let size: number;
    try {
      size = (await stat(full)).size;
    } catch {
      throw new BundleError(`bundle file '${f.path}' is missing from ${dir}`);
    }
    if (size !== f.bytes) {
      throw new BundleError(`bundle file '${f.path}' has ${size} bytes, bundle.json says ${f.bytes} (truncated or replaced?)`);
    }
  }
  if (opts.hashes === false) return;
  for (const f of m.files) {
    const digest = await sha256File(resolveInBundle(dir, f.path));
    if (digest !== f.sha256) {
      throw new BundleError(`bundle file '${f.path}' is corrupted: sha256 ${digest.slice(0, 12)}… ≠ ${f.sha256.slice(0, 12)}… in bundle.json`);
    }
  }
}
