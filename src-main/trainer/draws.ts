// Every random number of a training run, derived from (seed, step) alone with the bundle's Rng
// (docs/bundle-spec.md, "Random numbers"), so a resumed run draws exactly what an uninterrupted run
// would, and modeling/lora/twin.py (PyTorch) draws the same. Streams: 0 and 1 belong to generation;
// 2 = LoRA init; 2·step + 3 = the draws of update `step` (t, condition drop, noise per item, in that
// order); 2·epoch + 4 = the shuffle of that epoch.
import { Rng } from '../engine/sampler/rng';

export const INIT_STREAM = 2;
export const stepStream = (step: number): number => 2 * step + 3;
export const epochStream = (epoch: number): number => 2 * epoch + 4;

/** Fisher–Yates permutation of 0…n−1 for one epoch. */
export function epochOrder(seed: number, epoch: number, n: number): number[] {
  const rng = new Rng(seed, epochStream(epoch));
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/** Dataset indices of update `step`'s batch (sample k = step·batch + j walks the epochs in order). */
export function batchItems(seed: number, step: number, batch: number, n: number): number[] {
  const out: number[] = [];
  let cached: { epoch: number; order: number[] } | null = null;
  for (let j = 0; j < batch; j++) {
    const k = step * batch + j;
    const epoch = Math.floor(k / n);
    if (!cached || cached.epoch !== epoch) cached = { epoch, order: epochOrder(seed, epoch, n) };
    out.push(cached.order[k % n]!);
  }
  return out;
}

export interface ItemDraws {
  /** Flow-matching time, logit-normal: sigmoid(N(0, 1)), float32. */
  t: number;
  /** Whether the caption condition is replaced by zeros (classifier-free guidance training). */
  dropCond: boolean;
  noise: Float32Array;
}

export function stepDraws(seed: number, step: number, batch: number, latentSize: number, condDropProb: number): ItemDraws[] {
  const rng = new Rng(seed, stepStream(step));
  const out: ItemDraws[] = [];
  for (let j = 0; j < batch; j++) {
    const t = Math.fround(1 / (1 + Math.exp(-rng.normal())));
    const dropCond = rng.uniform() < condDropProb;
    out.push({ t, dropCond, noise: rng.normals(latentSize) });
  }
  return out;
}

/** Initial LoRA: down ~ U(−1/√in, 1/√in) (Kaiming-uniform-like), up = 0, so the LoRA starts as a no-op. */
export function initialLora(seed: number, targets: readonly { in: number; out: number }[], rank: number): { down: Float32Array[]; up: Float32Array[] } {
  const rng = new Rng(seed, INIT_STREAM);
  const down = targets.map((t) => {
    const a = new Float32Array(rank * t.in);
    const bound = 1 / Math.sqrt(t.in);
    for (let i = 0; i < a.length; i++) a[i] = (2 * rng.uniform() - 1) * bound;
    return a;
  });
  return { down, up: targets.map((t) => new Float32Array(t.out * rank)) };
}
