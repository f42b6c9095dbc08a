// VAE encode/decode around the DiT's latent space (docs/bundle-spec.md, steps 4–5), the cheap
// latent → RGB preview, and the image tokenizer used by the AR side.
import * as ort from 'onnxruntime-node';
import type { BundleManifest } from '../bundle/manifest';
import type { GraphRunner } from '../bundle/sessions';
import type { TensorLedger } from '../runtime/ledger';

async function runOne(
  sessions: GraphRunner,
  ledger: TensorLedger,
  role: 'vae_encoder' | 'vae_decoder' | 'image_tokenizer_encoder' | 'image_tokenizer_decoder',
  input: ort.Tensor,
  output: string,
): Promise<ort.Tensor['data']> {
  const feedName = role === 'vae_decoder' ? 'latents' : role === 'image_tokenizer_decoder' ? 'codes' : 'image';
  ledger.track(input);
  let out: Record<string, ort.Tensor> = {};
  try {
    out = await sessions.run(role, { [feedName]: input }, ledger);
    const t = out[output];
    if (!t) throw new Error(`graph '${role}' returned no '${output}'`);
    return t.type === 'int64' ? BigInt64Array.from(t.data as BigInt64Array) : Float32Array.from(t.data as Float32Array);
  } finally {
    ledger.dispose(input);
    ledger.disposeAll(Object.values(out));
  }
}

/** Pixels [B, 3, H, W] in [-1, 1] → scaled latents `(raw − shift) × scale`. */
export async function encodeLatents(m: BundleManifest, sessions: GraphRunner, ledger: TensorLedger, pixels: Float32Array, batch: number): Promise<Float32Array> {
  const { width: W, height: H } = m.image;
  const raw = (await runOne(sessions, ledger, 'vae_encoder', new ort.Tensor('float32', pixels, [batch, 3, H, W]), 'latents')) as Float32Array;
  const { scaling_factor: scale, shift_factor: shift } = m.latent;
  const out = new Float32Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = (raw[i]! - shift) * scale;
  return out;
}

/** Scaled latents → pixels [B, 3, H, W] in (roughly) [-1, 1], via `raw = x / scale + shift`. */
export async function decodeLatents(m: BundleManifest, sessions: GraphRunner, ledger: TensorLedger, latents: Float32Array, batch: number): Promise<Float32Array> {
  const { channels: C, height: h, width: w } = m.latent;
  const { scaling_factor: scale, shift_factor: shift } = m.latent;
  const raw = new Float32Array(latents.length);
  for (let i = 0; i < raw.length; i++) raw[i] = latents[i]! / scale + shift;
  return (await runOne(sessions, ledger, 'vae_decoder', new ort.Tensor('float32', raw, [batch, C, h, w]), 'image')) as Float32Array;
}

/** Pixels [B, 3, H, W] → image codes [B, count]. */
export async function encodeCodes(m: BundleManifest, sessions: GraphRunner, ledger: TensorLedger, pixels: Float32Array, batch: number): Promise<BigInt64Array> {
  const { width: W, height: H } = m.image;
  return (await runOne(sessions, ledger, 'image_tokenizer_encoder', new ort.Tensor('float32', pixels, [batch, 3, H, W]), 'codes')) as BigInt64Array;
}

/** Codes [B, count] → preview pixels [B, 3, H, W]. */
export async function decodeCodes(m: BundleManifest, sessions: GraphRunner, ledger: TensorLedger, codes: BigInt64Array, batch: number): Promise<Float32Array> {
  const count = m.image_tokens.count;
  return (await runOne(sessions, ledger, 'image_tokenizer_decoder', new ort.Tensor('int64', codes, [batch, count]), 'image')) as Float32Array;
}

/**
 * A latent → RGB preview of one item: the bundle's linear map per latent cell, giving a small
 * [3, h, w] image in [-1, 1]. Costs a few multiplies per cell, no graph run.
 */
export function latentRgbPreview(m: BundleManifest, latents: Float32Array, item = 0): Float32Array {
  const { channels: C, height: h, width: w } = m.latent;
  const { weights, bias } = m.latent.rgb_preview;
  const plane = h * w;
  const base = item * C * plane;
  const out = new Float32Array(3 * plane);
  for (let p = 0; p < plane; p++) {
    for (let k = 0; k < 3; k++) {
      let v = bias[k]!;
      for (let c = 0; c < C; c++) v += weights[c]![k]! * latents[base + c * plane + p]!;
      out[k * plane + p] = v;
    }
  }
  return out;
}
