// Shared helpers of the engine tests: the fixture paths, a safetensors reader, temp bundle copies.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import type { LoraWeights } from '../../src-main/engine';

export const FIXTURE_BUNDLE = fileURLToPath(new URL('../fixtures/bundle-fixture', import.meta.url));
/** An edit generator for the fixture bundle (another random AR, connector and DiT; modeling/make_fixtures.py). */
export const EDIT_GENERATOR_FIXTURE = fileURLToPath(new URL('../fixtures/edit-generator', import.meta.url));
export const REFERENCE_DIR = fileURLToPath(new URL('../fixtures/reference', import.meta.url));

export type SafeTensor =
  | { dtype: 'F32'; shape: number[]; data: Float32Array }
  | { dtype: 'I64'; shape: number[]; data: BigInt64Array }
  | { dtype: 'U8'; shape: number[]; data: Uint8Array };

/** Reads a .safetensors file (8-byte header length, JSON header, little-endian data). */
export function readSafetensors(file: string): Map<string, SafeTensor> {
  const buf = readFileSync(file);
  const headerLen = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + headerLen).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const base = 8 + headerLen;
  const out = new Map<string, SafeTensor>();
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    // Copy into a fresh, aligned buffer.
    const bytes = Uint8Array.from(buf.subarray(base + t.data_offsets[0], base + t.data_offsets[1]));
    if (t.dtype === 'F32') out.set(name, { dtype: 'F32', shape: t.shape, data: new Float32Array(bytes.buffer) });
    else if (t.dtype === 'I64') out.set(name, { dtype: 'I64', shape: t.shape, data: new BigInt64Array(bytes.buffer) });
    else if (t.dtype === 'U8') out.set(name, { dtype: 'U8', shape: t.shape, data: bytes });
    else throw new Error(`unsupported safetensors dtype ${t.dtype} (${name})`);
  }
  return out;
}

export function f32(t: Map<string, SafeTensor>, name: string): Float32Array {
  const v = t.get(name);
  if (!v || v.dtype !== 'F32') throw new Error(`no float32 tensor '${name}'`);
  return v.data;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} ≠ ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** A throwaway copy of the fixture bundle; `edit` may change files before use. */
export function tempBundle(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'atelier-bundle-'));
  cpSync(FIXTURE_BUNDLE, dir, { recursive: true });
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

interface BundlePatch {
  graphs: Record<string, unknown>;
  files: { path: string; sha256: string; bytes: number }[];
  provenance: Record<string, unknown>;
}

/** bundle.json with the edit generator's entries laid over it (what modeling.train.edit_generator writes). */
export function withEditGenerator(manifest: Record<string, unknown>): Record<string, unknown> {
  const patch = JSON.parse(readFileSync(path.join(EDIT_GENERATOR_FIXTURE, 'bundle-patch.json'), 'utf8')) as BundlePatch;
  return {
    ...manifest,
    graphs: { ...(manifest['graphs'] as Record<string, unknown>), ...patch.graphs },
    files: [...(manifest['files'] as BundlePatch['files']), ...patch.files],
    provenance: { ...(manifest['provenance'] as Record<string, unknown>), ...patch.provenance },
  };
}

/** A throwaway copy of the fixture bundle with the edit generator's three graphs added. */
export function tempEditBundle(): { dir: string; cleanup: () => void } {
  const tmp = tempBundle();
  const patch = JSON.parse(readFileSync(path.join(EDIT_GENERATOR_FIXTURE, 'bundle-patch.json'), 'utf8')) as BundlePatch;
  for (const f of patch.files) cpSync(path.join(EDIT_GENERATOR_FIXTURE, f.path), path.join(tmp.dir, f.path));
  const file = path.join(tmp.dir, 'bundle.json');
  writeFileSync(file, JSON.stringify(withEditGenerator(JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>), null, 1));
  return tmp;
}

/** Re-records a file's size and sha256 in bundle.json (after a deliberate replacement). */
export function rehash(dir: string, rel: string): void {
  const j = JSON.parse(readFileSync(path.join(dir, 'bundle.json'), 'utf8')) as { files: { path: string; sha256: string; bytes: number }[] };
  const bytes = readFileSync(path.join(dir, rel));
  const entry = j.files.find((f) => f.path === rel)!;
  entry.sha256 = createHash('sha256').update(bytes).digest('hex');
  entry.bytes = bytes.length;
  writeFileSync(path.join(dir, 'bundle.json'), JSON.stringify(j, null, 1));
}

/** uint8 [3, H, W] planes → a PNG. */
export async function planarPng(planes: Uint8Array, width: number, height: number): Promise<Uint8Array> {
  const hwc = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) for (let c = 0; c < 3; c++) hwc[p * 3 + c] = planes[c * width * height + p]!;
  return new Uint8Array(await sharp(hwc, { raw: { width, height, channels: 3 } }).png().toBuffer());
}

/** RGB bytes (HWC) of item `b` of uint8 [B, 3, H, W] or of [3, H, W]. */
export function planarToHwc(planes: Uint8Array, width: number, height: number, b = 0): Uint8Array {
  const plane = width * height;
  const out = new Uint8Array(plane * 3);
  for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) out[p * 3 + c] = planes[b * 3 * plane + c * plane + p]!;
  return out;
}

export async function solidPng(width: number, height: number, rgb: [number, number, number]): Promise<Uint8Array> {
  return new Uint8Array(await sharp({ create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } }).png().toBuffer());
}

/** A PNG with some structure (a gradient), so resizes and composites have something to show. */
export async function gradientPng(width: number, height: number): Promise<Uint8Array> {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      data[i] = (x * 255) / Math.max(1, width - 1);
      data[i + 1] = (y * 255) / Math.max(1, height - 1);
      data[i + 2] = ((x + y) * 7) % 256;
    }
  }
  return new Uint8Array(await sharp(data, { raw: { width, height, channels: 3 } }).png().toBuffer());
}

/** A deterministic random LoRA for the bundle's targets (rank `rank`, entries in ±scale). */
export function randomLora(targets: { in: number; out: number }[], rank: number, seed: number, scale = 0.5): LoraWeights {
  let s = seed;
  const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  return {
    rank,
    alpha: rank,
    down: targets.map((t) => Float32Array.from({ length: rank * t.in }, () => rnd() * scale)),
    up: targets.map((t) => Float32Array.from({ length: t.out * rank }, () => rnd() * scale)),
  };
}
