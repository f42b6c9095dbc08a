// Flow-matching schedules and steppers (docs/bundle-spec.md, step 4). σ runs from 1 (pure noise) to 0
// (clean latents); the model predicts a velocity v with x_σ' = x_σ + (σ' − σ)·v. Schedulers know
// nothing about graphs: the pipeline passes a `velocity(x, σ)` function.

/** Sigmas s_i = 1 − i/steps (i = 0…steps), shifted σ = shift·s / (1 + (shift − 1)·s). */
export function flowMatchSigmas(steps: number, shift: number): Float64Array {
  if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`steps must be an integer ≥ 1 (got ${steps})`);
  if (!(shift > 0)) throw new RangeError(`shift must be > 0 (got ${shift})`);
  const sigmas = new Float64Array(steps + 1);
  for (let i = 0; i <= steps; i++) {
    const s = 1 - i / steps;
    sigmas[i] = (shift * s) / (1 + (shift - 1) * s);
  }
  return sigmas;
}

export type SamplerName = 'euler' | 'heun';
export const SAMPLER_NAMES: readonly SamplerName[] = ['euler', 'heun'];

/** Display names as A1111 writes them in `Sampler:`. */
export const SAMPLER_LABELS: Record<SamplerName, string> = { euler: 'Euler', heun: 'Heun' };

export type VelocityFn = (x: Float32Array, sigma: number, step: number) => Promise<Float32Array>;

/**
 * x + dt·v computed in float64 and stored as float32, exactly as modeling/scheduler.py does it, so
 * the engine and the reference agree bit for bit given the same velocities.
 */
export function eulerUpdate(x: Float32Array, v: ArrayLike<number>, dt: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i]! + dt * v[i]!;
  return out;
}

export interface StepInfo {
  step: number;
  steps: number;
  sigma: number;
  nextSigma: number;
}

export interface Stepper {
  readonly name: SamplerName;
  /** Model evaluations one step costs (for progress and benchmarks). */
  readonly evalsPerStep: number;
  step(x: Float32Array, sigmas: Float64Array, i: number, velocity: VelocityFn): Promise<Float32Array>;
}

export const euler: Stepper = {
  name: 'euler',
  evalsPerStep: 1,
  async step(x, sigmas, i, velocity) {
    const v = await velocity(x, sigmas[i]!, i);
    return eulerUpdate(x, v, sigmas[i + 1]! - sigmas[i]!);
  },
};

/** Heun's second-order method; the last step (σ' = 0) falls back to Euler as in k-diffusion. */
export const heun: Stepper = {
  name: 'heun',
  evalsPerStep: 2,
  async step(x, sigmas, i, velocity) {
    const s = sigmas[i]!;
    const sNext = sigmas[i + 1]!;
    const dt = sNext - s;
    const v1 = await velocity(x, s, i);
    const predicted = eulerUpdate(x, v1, dt);
    if (sNext === 0) return predicted;
    const v2 = await velocity(predicted, sNext, i);
    // The average stays in float64, as in the reference.
    const avg = new Float64Array(v1.length);
    for (let k = 0; k < avg.length; k++) avg[k] = (v1[k]! + v2[k]!) * 0.5;
    return eulerUpdate(x, avg, dt);
  },
};

export function stepperFor(name: SamplerName): Stepper {
  return name === 'heun' ? heun : euler;
}
