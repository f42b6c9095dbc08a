// LoRA weights as inputs of the optional `dit_lora` graph (docs/bundle-spec.md, "Optional LoRA
// graphs"). Several LoRAs are concatenated along the rank, each one's up matrix multiplied by its
// weight · alpha / rank, so switching LoRAs or weights only changes the inputs: the session (the
// loaded model) stays. Added for issue 7 (LoRA); the file format lives in src-main/trainer/lora-file.ts.
import type { BundleManifest } from '../bundle/manifest';

export interface LoraTarget {
  index: number;
  /** kohya-style key prefix in a LoRA file, e.g. lora_dit_blocks_0_attn_qkv. */
  key: string;
  module: string;
  in: number;
  out: number;
}

/** One LoRA: per target (bundle order) down [rank, in] and up [out, rank], row-major. */
export interface LoraWeights {
  rank: number;
  alpha: number;
  down: Float32Array[];
  up: Float32Array[];
}

export interface AppliedLora {
  weights: LoraWeights;
  /** Strength: 1 = as trained, 0 = off. */
  weight: number;
  /** For messages and image metadata. */
  name?: string;
}

export interface LoraInput {
  data: Float32Array;
  dims: number[];
}

export function loraTargets(m: BundleManifest): LoraTarget[] {
  if (!m.lora || !m.graphs['dit_lora']) {
    throw new Error(`the model '${m.name}' has no LoRA graphs: add them with python -m modeling.lora.export --bundle <folder>`);
  }
  return m.lora.targets;
}

/** Checks that a LoRA fits this bundle's targets; the message names the first mismatch. */
export function checkLoraFits(m: BundleManifest, w: LoraWeights, name = 'the LoRA'): void {
  const targets = loraTargets(m);
  if (w.down.length !== targets.length || w.up.length !== targets.length) {
    throw new Error(`${name} has ${w.down.length} target layers, the model '${m.name}' has ${targets.length}: it was trained for another model`);
  }
  for (const t of targets) {
    if (w.down[t.index]!.length !== w.rank * t.in || w.up[t.index]!.length !== t.out * w.rank) {
      throw new Error(`${name} does not fit ${t.module} of the model '${m.name}' (rank ${w.rank}, ${t.in}→${t.out}): it was trained for another model`);
    }
  }
}

/** The `lora_down_i` / `lora_up_i` inputs for any number of LoRAs (none = rank 0, the plain DiT). */
export function loraInputs(m: BundleManifest, loras: readonly AppliedLora[]): Record<string, LoraInput> {
  const targets = loraTargets(m);
  const active = loras.filter((l) => l.weight !== 0);
  for (const l of active) checkLoraFits(m, l.weights, l.name);
  const total = active.reduce((s, l) => s + l.weights.rank, 0);
  const feeds: Record<string, LoraInput> = {};
  for (const t of targets) {
    const down = new Float32Array(total * t.in);
    const up = new Float32Array(t.out * total);
    let r0 = 0;
    for (const l of active) {
      const r = l.weights.rank;
      const scale = (l.weight * l.weights.alpha) / r;
      down.set(l.weights.down[t.index]!, r0 * t.in);
      const src = l.weights.up[t.index]!;
      for (let o = 0; o < t.out; o++) {
        for (let j = 0; j < r; j++) up[o * total + r0 + j] = src[o * r + j]! * scale;
      }
      r0 += r;
    }
    feeds[`lora_down_${t.index}`] = { data: down, dims: [total, t.in] };
    feeds[`lora_up_${t.index}`] = { data: up, dims: [t.out, total] };
  }
  return feeds;
}
