// The DiT sampling loop (docs/bundle-spec.md, step 4). Classifier-free guidance runs the conditional
// and the zero-condition branch in one batched call; inpainting blends the known region back after
// every step; variations start part-way down the schedule from a re-noised image.
import * as ort from 'onnxruntime-node';
import type { BundleManifest } from '../bundle/manifest';
import type { GraphRunner } from '../bundle/sessions';
import type { TensorLedger } from '../runtime/ledger';
import type { SamplerName } from '../scheduler/flow-match';
import { flowMatchSigmas, stepperFor } from '../scheduler/flow-match';
import type { LoraInput } from './lora';

export interface LatentBlend {
  /**
   * Per latent cell, 1 = regenerate, 0 = keep; shared by every channel. [h·w] is shared by every batch
   * item (a drawn mask); [B·h·w] is one per item (an edit keeping the cells its AR kept).
   */
  mask: Float32Array;
  /** Encoded known image, [B, C, h, w] in the DiT's (scaled) latent space. */
  known: Float32Array;
  /** The initial noise, reused to re-noise the known region to each σ. */
  noise: Float32Array;
}

export interface DenoiseRequest {
  batch: number;
  /** Initial noise [B, C, h, w]. */
  noise: Float32Array;
  /** Connector output [B, n_cond, out_dim]. */
  cond: Float32Array;
  /** Reference latents [B, C, h, w] (scaled), or null for none (zeros). */
  ref: Float32Array | null;
  steps: number;
  shift: number;
  cfgScale: number;
  sampler: SamplerName;
  blend?: LatentBlend;
  /** Start at sigmas[startIndex] from x = (1 − σ)·init + σ·noise (variations / img2img). */
  init?: { latents: Float32Array; startIndex: number };
  /** LoRA inputs (lora.ts): run the `dit_lora` graph with them instead of `dit`. */
  lora?: Record<string, LoraInput>;
  signal?: AbortSignal;
  onStep?: (done: number, total: number, x: Float32Array) => Promise<void> | void;
}

export interface DenoiseResult {
  latents: Float32Array;
  modelEvals: number;
  stepsPerSecond: number;
}

export function latentSize(m: BundleManifest): number {
  return m.latent.channels * m.latent.height * m.latent.width;
}

/** (1 − σ)·clean + σ·noise (float64 arithmetic, float32 result): clean latents re-noised to σ. */
export function interpolate(clean: Float32Array, noise: Float32Array, sigma: number): Float32Array {
  const out = new Float32Array(clean.length);
  for (let i = 0; i < out.length; i++) out[i] = (1 - sigma) * clean[i]! + sigma * noise[i]!;
  return out;
}

/** Inpaint blend after a step: m·x + (1 − m)·((1 − σ)·known + σ·noise), in float64 like the reference. */
export function blendKnown(x: Float32Array, blend: LatentBlend, sigma: number, plane: number): Float32Array {
  const out = new Float32Array(x.length);
  const items = blend.mask.length / plane; // 1: one mask for the whole batch
  if (!Number.isInteger(items) || x.length % items !== 0) throw new Error(`blend mask of ${blend.mask.length} values does not fit latents of ${x.length}`);
  const itemSize = x.length / items;
  for (let i = 0; i < x.length; i++) {
    const m = blend.mask[Math.floor(i / itemSize) * plane + (i % plane)]!;
    const target = (1 - sigma) * blend.known[i]! + sigma * blend.noise[i]!;
    out[i] = m * x[i]! + (1 - m) * target;
  }
  return out;
}

export async function denoise(
  m: BundleManifest,
  sessions: GraphRunner,
  ledger: TensorLedger,
  req: DenoiseRequest,
): Promise<DenoiseResult> {
  const B = req.batch;
  const { channels: C, height: h, width: w } = m.latent;
  const per = C * h * w;
  const nCond = m.condition.length;
  const condDim = m.connector.out_dim;
  if (req.noise.length !== B * per) throw new Error(`noise has ${req.noise.length} values, expected ${B * per}`);
  if (req.cond.length !== B * nCond * condDim) throw new Error(`cond has ${req.cond.length} values, expected ${B * nCond * condDim}`);
  const guided = req.cfgScale !== 1;
  const rows = guided ? 2 * B : B;
  // Fixed inputs of every call: cond (with the zero-cond half for CFG) and the reference latents.
  const condData = new Float32Array(rows * nCond * condDim);
  condData.set(req.cond);
  const refData = new Float32Array(rows * per);
  if (req.ref) {
    refData.set(req.ref);
    if (guided) refData.set(req.ref, B * per);
  }
  const sigmas = flowMatchSigmas(req.steps, req.shift);
  const stepper = stepperFor(req.sampler);
  let evals = 0;

  const velocity = async (x: Float32Array, sigma: number): Promise<Float32Array> => {
    req.signal?.throwIfAborted();
    const latents = new Float32Array(rows * per);
    latents.set(x);
    if (guided) latents.set(x, B * per);
    const feeds = {
      latents: ledger.track(new ort.Tensor('float32', latents, [rows, C, h, w])),
      timestep: ledger.track(new ort.Tensor('float32', new Float32Array(rows).fill(sigma), [rows])),
      cond: ledger.track(new ort.Tensor('float32', condData, [rows, nCond, condDim])),
      ref_latents: ledger.track(new ort.Tensor('float32', refData, [rows, C, h, w])),
    } as Record<string, ort.Tensor>;
    for (const [name, t] of Object.entries(req.lora ?? {})) feeds[name] = ledger.track(new ort.Tensor('float32', t.data, t.dims));
    let out: Record<string, ort.Tensor> = {};
    try {
      out = await sessions.run(req.lora ? 'dit_lora' : 'dit', feeds, ledger);
      evals++;
      const v = out['velocity']!.data as Float32Array;
      if (!guided) return Float32Array.from(v);
      // v_u + cfg·(v_c − v_u) in float64, stored as float32 (as modeling/scheduler.py).
      const mixed = new Float32Array(B * per);
      const g = req.cfgScale;
      for (let i = 0; i < mixed.length; i++) {
        const u = v[B * per + i]!;
        mixed[i] = u + g * (v[i]! - u);
      }
      return mixed;
    } finally {
      ledger.disposeAll(Object.values(feeds));
      ledger.disposeAll(Object.values(out));
    }
  };

  let start = 0;
  let x = req.noise;
  if (req.init) {
    start = req.init.startIndex;
    if (!(start >= 0 && start < req.steps)) throw new RangeError(`init start index ${start} is outside 0…${req.steps - 1}`);
    x = interpolate(req.init.latents, req.noise, sigmas[start]!);
  }
  const t0 = performance.now();
  const total = req.steps - start;
  for (let i = start; i < req.steps; i++) {
    req.signal?.throwIfAborted();
    x = await stepper.step(x, sigmas, i, velocity);
    if (req.blend) x = blendKnown(x, req.blend, sigmas[i + 1]!, h * w);
    await req.onStep?.(i - start + 1, total, x);
  }
  const seconds = (performance.now() - t0) / 1000;
  return { latents: x, modelEvals: evals, stepsPerSecond: seconds > 0 ? total / seconds : 0 };
}
