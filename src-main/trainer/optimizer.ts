// AdamW, the learning-rate schedule and gradient clipping, written to match PyTorch's
// torch.optim.AdamW (decoupled weight decay, bias-corrected moments) and clip_grad_norm_ step for
// step, so modeling/lora/twin.py can check the TypeScript trainer's loss curve. Arithmetic is in
// float64 and stored as float32, like PyTorch's float32 tensors up to rounding.

export interface AdamWSettings {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export const ADAMW_DEFAULTS: AdamWSettings = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 };

export class AdamW {
  /** First and second moments, one buffer per parameter tensor. */
  readonly expAvg: Float32Array[];
  readonly expAvgSq: Float32Array[];
  /** Updates done so far (PyTorch's `step` state). */
  t = 0;

  constructor(
    sizes: readonly number[],
    readonly settings: AdamWSettings = ADAMW_DEFAULTS,
  ) {
    this.expAvg = sizes.map((n) => new Float32Array(n));
    this.expAvgSq = sizes.map((n) => new Float32Array(n));
  }

  step(params: Float32Array[], grads: Float32Array[], lr: number): void {
    const { beta1, beta2, eps, weightDecay } = this.settings;
    this.t++;
    const bc1 = 1 - beta1 ** this.t;
    const bc2Sqrt = Math.sqrt(1 - beta2 ** this.t);
    const stepSize = lr / bc1;
    const decay = 1 - lr * weightDecay;
    for (let k = 0; k < params.length; k++) {
      const p = params[k]!;
      const g = grads[k]!;
      const m = this.expAvg[k]!;
      const v = this.expAvgSq[k]!;
      for (let i = 0; i < p.length; i++) {
        const gi = g[i]!;
        const pi = Math.fround(p[i]! * decay);
        m[i] = m[i]! + (gi - m[i]!) * (1 - beta1);
        v[i] = v[i]! * beta2 + gi * gi * (1 - beta2);
        // Read back the stored float32 moments (an assignment expression would give the float64 value).
        p[i] = pi - (stepSize * m[i]!) / (Math.sqrt(v[i]!) / bc2Sqrt + eps);
      }
    }
  }
}

export type Schedule = 'cosine' | 'constant';

/** The learning rate of update `step` (0-based): linear warm-up, then cosine to 0 or constant. */
export function learningRate(step: number, totalSteps: number, base: number, warmupSteps: number, schedule: Schedule): number {
  if (warmupSteps > 0 && step < warmupSteps) return (base * (step + 1)) / warmupSteps;
  if (schedule === 'constant') return base;
  const progress = (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
  return base * 0.5 * (1 + Math.cos(Math.PI * progress));
}

/** Scales the gradients in place so their global L2 norm is at most maxNorm; returns the norm before. */
export function clipGradNorm(grads: Float32Array[], maxNorm: number): number {
  let sq = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) sq += g[i]! * g[i]!;
  const norm = Math.sqrt(sq);
  if (maxNorm > 0) {
    const coef = maxNorm / (norm + 1e-6);
    if (coef < 1) for (const g of grads) for (let i = 0; i < g.length; i++) g[i] = g[i]! * coef;
  }
  return norm;
}
