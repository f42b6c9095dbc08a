// Runs the bundle's `dit_train_lora` graph: LoRA tensors + one fixed-size batch → loss and the
// gradient of every LoRA tensor. A LoRA of rank r below the graph's max rank is zero-padded (the
// padding's gradients are exactly zero, docs/bundle-spec.md), and the gradients come back at rank r.
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { BundleManifest } from '../engine/bundle/manifest';
import type { LoraTarget } from '../engine/diffusion/lora';
import { loraTargets } from '../engine/diffusion/lora';
import { createSessionWithProvider } from '../engine/runtime/providers';

export const TRAIN_ROLE = 'dit_train_lora';

export interface GraphBatch {
  x0: Float32Array;
  noise: Float32Array;
  t: Float32Array;
  cond: Float32Array;
  ref: Float32Array;
}

export interface LossAndGrads {
  loss: number;
  /** Flat list in parameter order: down_0, up_0, down_1, … at the LoRA's own rank. */
  grads: Float32Array[];
}

export class GradientGraph {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly m: BundleManifest,
    readonly targets: LoraTarget[],
    readonly batch: number,
    readonly maxRank: number,
  ) {}

  static async open(dir: string, m: BundleManifest, threads?: number): Promise<GradientGraph> {
    const targets = loraTargets(m);
    const spec = m.graphs[TRAIN_ROLE];
    if (!spec || !m.lora) throw new Error(`the model '${m.name}' has no LoRA training graph: add it with python -m modeling.lora.export --bundle ${dir}`);
    // From the path, so onnxruntime finds the shared external weights file next to it.
    const { session } = await createSessionWithProvider(path.join(dir, spec.file), 'cpu', { threads });
    const want = ['loss', ...targets.flatMap((t) => [`grad_down_${t.index}`, `grad_up_${t.index}`])];
    if (session.outputNames.join() !== want.join()) {
      await session.release();
      throw new Error(`${spec.file} does not have the outputs the spec lists (loss, grad_down_i, grad_up_i)`);
    }
    return new GradientGraph(session, m, targets, m.lora.train.batch, m.lora.train.max_rank);
  }

  async run(params: Float32Array[], rank: number, scale: number, b: GraphBatch): Promise<LossAndGrads> {
    if (rank > this.maxRank) throw new RangeError(`rank ${rank} is above the largest the training graph takes (${this.maxRank})`);
    const R = this.maxRank;
    const { channels: C, height: h, width: w } = this.m.latent;
    const B = this.batch;
    const feeds: Record<string, ort.Tensor> = {};
    for (const t of this.targets) {
      const down = params[2 * t.index]!;
      const up = params[2 * t.index + 1]!;
      let downP = down;
      let upP = up;
      if (rank < R) {
        downP = new Float32Array(R * t.in);
        downP.set(down);
        upP = new Float32Array(t.out * R);
        for (let o = 0; o < t.out; o++) upP.set(up.subarray(o * rank, (o + 1) * rank), o * R);
      }
      feeds[`lora_down_${t.index}`] = new ort.Tensor('float32', downP, [R, t.in]);
      feeds[`lora_up_${t.index}`] = new ort.Tensor('float32', upP, [t.out, R]);
    }
    feeds['lora_scale'] = new ort.Tensor('float32', Float32Array.of(scale), [1]);
    feeds['x0'] = new ort.Tensor('float32', b.x0, [B, C, h, w]);
    feeds['noise'] = new ort.Tensor('float32', b.noise, [B, C, h, w]);
    feeds['timestep'] = new ort.Tensor('float32', b.t, [B]);
    feeds['cond'] = new ort.Tensor('float32', b.cond, [B, this.m.condition.length, this.m.connector.out_dim]);
    feeds['ref_latents'] = new ort.Tensor('float32', b.ref, [B, C, h, w]);
    const out = await this.session.run(feeds);
    try {
      const loss = (out['loss']!.data as Float32Array)[0]!;
      if (!Number.isFinite(loss)) throw new Error(`the training loss became ${loss} (learning rate too high?)`);
      const grads: Float32Array[] = [];
      for (const t of this.targets) {
        const gd = out[`grad_down_${t.index}`]!.data as Float32Array;
        const gu = out[`grad_up_${t.index}`]!.data as Float32Array;
        if (rank === R) {
          grads.push(Float32Array.from(gd), Float32Array.from(gu));
        } else {
          const up = new Float32Array(t.out * rank);
          for (let o = 0; o < t.out; o++) up.set(gu.subarray(o * R, o * R + rank), o * rank);
          grads.push(gd.slice(0, rank * t.in), up);
        }
      }
      return { loss, grads };
    } finally {
      for (const t of Object.values(out)) t.dispose();
      for (const t of Object.values(feeds)) t.dispose();
    }
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
