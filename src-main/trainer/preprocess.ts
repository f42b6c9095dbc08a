// Dataset items → what the gradient graph consumes, computed once and cached on disk:
//   x0   = the image fitted to the model's size (centre crop + resize), VAE-encoded and scaled;
//   cond = the caption's condition: the AR teacher-forced on template(caption) + the image's own codes
//          (image_tokenizer_encoder), hidden states of <|img_start|> and the codes → connector.
// That is the condition the DiT sees at generation time when the AR writes this image's codes.
// That is condition 'own-codes'; the default, 'sampled', uses the AR's own samples instead (ConditionMode).
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import type { Bundle } from '../engine/bundle';
import { encodeCodes, encodeLatents } from '../engine/diffusion/vae';
import { generateCodes } from '../engine/ar/decode';
import { Rng } from '../engine/sampler/rng';
import { rgbToPlanar } from '../engine/image/pixels';
import { TensorLedger } from '../engine/runtime/ledger';
import type { DatasetItem } from './dataset';
import type { WriteIo } from './atomic-write';
import { realIo, writeFileAtomic } from './atomic-write';
import { decodeSafetensors, encodeSafetensors } from './safetensors';

export interface PreparedItem {
  name: string;
  /** Scaled latents [C, h, w]. */
  x0: Float32Array;
  /** Condition [n_cond, out_dim]. */
  cond: Float32Array;
}

/** The image as model-size planar pixels [1, 3, H, W] in [-1, 1]: centre crop to the aspect, resize. */
export async function fitToModel(file: string, width: number, height: number): Promise<Float32Array> {
  const { data } = await sharp(file)
    .rotate()
    .flatten({ background: '#ffffff' })
    .removeAlpha()
    .resize(width, height, { fit: 'cover', position: 'centre', kernel: 'lanczos3' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return rgbToPlanar({ width, height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) });
}

/** Caption conditioning of one image (see the file comment). */
export async function captionCondition(bundle: Bundle, ledger: TensorLedger, caption: string, pixels: Float32Array): Promise<Float32Array> {
  const m = bundle.manifest;
  const codes = await encodeCodes(m, bundle.sessions, ledger, pixels, 1);
  const tokenizer = await bundle.tokenizer();
  const prompt = tokenizer.encodeTemplate('generate', caption).ids;
  const offset = m.vocab.image_code_offset;
  const ids = [...prompt, ...Array.from(codes, (c) => offset + Number(c))];
  const L = ids.length;
  if (L > m.ar.max_positions) throw new Error(`caption too long for the model (${L} > ${m.ar.max_positions} positions)`);
  const feeds: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, L]),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(L).fill(1n), [1, L]),
    position_ids: new ort.Tensor('int64', BigInt64Array.from({ length: L }, (_, i) => BigInt(i)), [1, L]),
  };
  for (let i = 0; i < m.ar.layers; i++) {
    for (const kind of ['key', 'value']) feeds[`past_${kind}_${i}`] = new ort.Tensor('float32', new Float32Array(0), [1, m.ar.kv_heads, 0, m.ar.head_dim]);
  }
  for (const t of Object.values(feeds)) ledger.track(t);
  let out: Record<string, ort.Tensor> = {};
  let cond: Record<string, ort.Tensor> = {};
  try {
    out = await bundle.sessions.run('ar', feeds, ledger);
    const D = m.ar.hidden_size;
    const n = m.condition.length;
    const hidden = out['hidden']!.data as Float32Array;
    const start = prompt.length - 1; // <|img_start|>
    const rows = hidden.slice(start * D, (start + n) * D);
    const hiddenT = ledger.track(new ort.Tensor('float32', rows, [1, n, D]));
    try {
      cond = await bundle.sessions.run('connector', { hidden: hiddenT }, ledger);
    } finally {
      ledger.dispose(hiddenT);
    }
    return Float32Array.from(cond['cond']!.data as Float32Array);
  } finally {
    ledger.disposeAll(Object.values(feeds));
    ledger.disposeAll(Object.values(out));
    ledger.disposeAll(Object.values(cond));
  }
}

/**
 * How the caption's condition is made:
 * - 'own-codes': the AR teacher-forced on the image's own codes (see the file comment).
 * - 'sampled' (default): the AR *samples* codes for the caption, as at generation time (bundle's sampling
 *   defaults, seeds 0…variants−1), and each sample's hidden states become one training item. The DiT
 *   LoRA then learns to paint the concept from whatever the untrained AR writes for the trigger
 *   prompt — which is what it gets at generation time (measured in docs/lora.md, concept check).
 */
export type ConditionMode = 'own-codes' | 'sampled';
export const SAMPLED_VARIANTS = 4;

function cacheKey(bundleHash: string, item: DatasetItem, variant = ''): string {
  return createHash('sha256').update(`atelier-lora-cache-v1\0${bundleHash}\0${item.imageSha256}\0${item.caption}${variant}`).digest('hex');
}

/** Conditions from AR samples of template(caption): one per seed 0…variants−1. */
export async function sampledConditions(bundle: Bundle, ledger: TensorLedger, caption: string, variants: number): Promise<Float32Array[]> {
  const m = bundle.manifest;
  const tokenizer = await bundle.tokenizer();
  const prompt = tokenizer.encodeTemplate('generate', caption).ids;
  const ar = await generateCodes(m, bundle.sessions, ledger, {
    prompts: Array.from({ length: variants }, () => prompt),
    sampling: { temperature: m.sampling.temperature, topK: m.sampling.top_k, topP: m.sampling.top_p },
    uniforms: Array.from({ length: variants }, (_, k) => new Rng(k, 0)),
  });
  const out: Float32Array[] = [];
  for (const hidden of ar.hidden) {
    const hiddenT = ledger.track(new ort.Tensor('float32', hidden, [1, m.condition.length, m.ar.hidden_size]));
    let cond: Record<string, ort.Tensor> = {};
    try {
      cond = await bundle.sessions.run('connector', { hidden: hiddenT }, ledger);
      out.push(Float32Array.from(cond['cond']!.data as Float32Array));
    } finally {
      ledger.dispose(hiddenT);
      ledger.disposeAll(Object.values(cond));
    }
  }
  return out;
}

/** Prepares every item, reading the cache where it has the item and writing it where not. */
export async function prepareItems(
  bundle: Bundle,
  items: readonly DatasetItem[],
  cacheDir: string,
  opts: { signal?: AbortSignal; onItem?: (done: number, total: number) => void; io?: WriteIo; condition?: ConditionMode } = {},
): Promise<PreparedItem[]> {
  mkdirSync(cacheDir, { recursive: true });
  const m = bundle.manifest;
  const ledger = new TensorLedger();
  const mode = opts.condition ?? 'own-codes';
  const variants = mode === 'sampled' ? SAMPLED_VARIANTS : 1;
  const { channels: C, height: h, width: w } = m.latent;
  const out: PreparedItem[] = [];
  let done = 0;
  for (const item of items) {
    opts.signal?.throwIfAborted();
    const files = Array.from({ length: variants }, (_, k) => path.join(cacheDir, `${cacheKey(bundle.hash, item, mode === 'sampled' ? `\0sampled-${k}` : '')}.safetensors`));
    let prepared: PreparedItem[] | null = [];
    for (const file of files) {
      try {
        const cached = decodeSafetensors(readFileSync(file), file);
        const x0 = cached.tensors.get('x0');
        const cond = cached.tensors.get('cond');
        if (!x0 || !cond) throw new Error('incomplete');
        prepared.push({ name: item.name, x0: x0.data, cond: cond.data });
      } catch {
        prepared = null; // not cached yet (or unreadable): compute every variant again
        break;
      }
    }
    if (!prepared) {
      const pixels = await fitToModel(item.image, m.image.width, m.image.height);
      const x0 = await encodeLatents(m, bundle.sessions, ledger, pixels, 1);
      const conds = mode === 'sampled' ? await sampledConditions(bundle, ledger, item.caption, variants) : [await captionCondition(bundle, ledger, item.caption, pixels)];
      prepared = conds.map((cond) => ({ name: item.name, x0, cond }));
      conds.forEach((cond, k) => {
        const bytes = encodeSafetensors([
          ['x0', { shape: [C, h, w], data: x0 }],
          ['cond', { shape: [m.condition.length, m.connector.out_dim], data: cond }],
        ]);
        writeFileAtomic(files[k]!, bytes, opts.io ?? realIo);
      });
    }
    out.push(...prepared);
    opts.onItem?.(++done, items.length);
  }
  return out;
}
