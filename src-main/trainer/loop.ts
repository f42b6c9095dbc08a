// One LoRA optimisation step over prepared data: draws (draws.ts) → the gradient graph, once per
// graph-sized micro-batch, gradients averaged → clip → AdamW at the scheduled learning rate.
// modeling/lora/twin.py is the same loop in PyTorch; tests compare their loss curves.
import type { LoraTarget, LoraWeights } from '../engine/diffusion/lora';
import { batchItems, initialLora, stepDraws } from './draws';
import type { GradientGraph } from './gradients';
import { AdamW, clipGradNorm, learningRate } from './optimizer';
import type { PreparedItem } from './preprocess';
import type { TrainSettings } from './settings';

export interface StepResult {
  step: number;
  loss: number;
  lr: number;
  gradNorm: number;
}

export interface LoopState {
  step: number;
  params: Float32Array[];
  expAvg: Float32Array[];
  expAvgSq: Float32Array[];
  losses: number[];
}

export class LoraLoop {
  readonly params: Float32Array[];
  readonly opt: AdamW;
  step: number;
  readonly losses: number[];

  constructor(
    private readonly graph: GradientGraph,
    private readonly data: readonly PreparedItem[],
    readonly s: TrainSettings,
    from?: LoopState,
  ) {
    const targets = graph.targets;
    const sizes = targets.flatMap((t) => [s.rank * t.in, t.out * s.rank]);
    this.opt = new AdamW(sizes, { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: s.weightDecay });
    if (from) {
      this.params = from.params;
      from.expAvg.forEach((a, i) => this.opt.expAvg[i]!.set(a));
      from.expAvgSq.forEach((a, i) => this.opt.expAvgSq[i]!.set(a));
      this.opt.t = from.step;
      this.step = from.step;
      this.losses = [...from.losses];
    } else {
      const init = initialLora(s.seed, targets, s.rank);
      this.params = targets.flatMap((t) => [init.down[t.index]!, init.up[t.index]!]);
      this.step = 0;
      this.losses = [];
    }
  }

  get targets(): LoraTarget[] {
    return this.graph.targets;
  }

  weights(): LoraWeights {
    const p = this.params;
    return { rank: this.s.rank, alpha: this.s.alpha, down: p.filter((_, i) => i % 2 === 0), up: p.filter((_, i) => i % 2 === 1) };
  }

  async trainStep(): Promise<StepResult> {
    const s = this.s;
    const g = this.graph;
    const m = g.m;
    const per = m.latent.channels * m.latent.height * m.latent.width;
    const condSize = m.condition.length * m.connector.out_dim;
    const items = batchItems(s.seed, this.step, s.batch, this.data.length);
    const draws = stepDraws(s.seed, this.step, s.batch, per, s.condDropProb);
    let grads: Float32Array[] | null = null;
    let sum: Float64Array[] | null = null;
    let lossSum = 0;
    const micro = g.batch;
    const chunks = s.batch / micro;
    for (let start = 0; start < s.batch; start += micro) {
      const x0 = new Float32Array(micro * per);
      const noise = new Float32Array(micro * per);
      const t = new Float32Array(micro);
      const cond = new Float32Array(micro * condSize);
      for (let j = 0; j < micro; j++) {
        const item = this.data[items[start + j]!]!;
        const d = draws[start + j]!;
        x0.set(item.x0, j * per);
        noise.set(d.noise, j * per);
        t[j] = d.t;
        if (!d.dropCond) cond.set(item.cond, j * condSize);
      }
      const r = await g.run(this.params, s.rank, s.alpha / s.rank, { x0, noise, t, cond, ref: new Float32Array(micro * per) });
      lossSum += r.loss;
      if (chunks === 1) {
        grads = r.grads; // the common case: no accumulation, no copies
        continue;
      }
      sum ??= r.grads.map((gr) => new Float64Array(gr.length));
      for (let k = 0; k < r.grads.length; k++) {
        const acc = sum[k]!;
        const gr = r.grads[k]!;
        for (let i = 0; i < gr.length; i++) acc[i] = acc[i]! + gr[i]!;
      }
    }
    if (!grads) {
      grads = sum!.map((acc) => {
        const out = new Float32Array(acc.length);
        for (let i = 0; i < acc.length; i++) out[i] = acc[i]! / chunks;
        return out;
      });
    }
    const loss = lossSum / chunks;
    const gradNorm = clipGradNorm(grads, s.maxGradNorm);
    const lr = learningRate(this.step, s.steps, s.learningRate, s.warmupSteps, s.schedule);
    this.opt.step(this.params, grads, lr);
    this.step++;
    this.losses.push(loss);
    return { step: this.step, loss, lr, gradNorm };
  }
}
