// LoRA .safetensors files, kohya-style: per target `<key>.lora_down.weight` [rank, in],
// `<key>.lora_up.weight` [out, rank] and `<key>.alpha` (a one-value tensor), training metadata in
// the header as `ss_*` strings (what kohya_ss, A1111 and others read), plus `atelier_*` keys.
// A training checkpoint is the same file with the optimizer moments (`atelier_state.*` tensors) and
// the resume state (`atelier_state` metadata, JSON), so one atomic write captures everything.
import { readFileSync } from 'node:fs';
import type { BundleManifest } from '../engine/bundle/manifest';
import type { LoraTarget, LoraWeights } from '../engine/diffusion/lora';
import { checkLoraFits, loraTargets } from '../engine/diffusion/lora';
import type { NamedTensor } from './safetensors';
import { decodeSafetensors, encodeSafetensors, SafetensorsError } from './safetensors';

/** What a checkpoint needs beyond the weights to continue exactly. */
export interface ResumeState {
  /** Updates done. */
  step: number;
  /** AdamW's step counter (equals `step`; kept separately so a mismatch is caught). */
  adamStep: number;
  /** The run's settings (a resume refuses different ones). */
  settingsHash: string;
  datasetHash: string;
  /** Loss per update so far, so a resumed run keeps its whole curve. */
  losses: number[];
  /** Random numbers are a function of (seed, step): see draws.ts. */
  rng: { seed: number; scheme: 'atelier-lora-draws-v1' };
}

export interface LoraCheckpointData {
  weights: LoraWeights;
  expAvg?: Float32Array[];
  expAvgSq?: Float32Array[];
  state?: ResumeState;
  metadata: Record<string, string>;
}

const downKey = (t: LoraTarget) => `${t.key}.lora_down.weight`;
const upKey = (t: LoraTarget) => `${t.key}.lora_up.weight`;
const alphaKey = (t: LoraTarget) => `${t.key}.alpha`;

export function encodeLoraFile(targets: readonly LoraTarget[], data: LoraCheckpointData): Uint8Array {
  const { weights: w } = data;
  const tensors: [string, NamedTensor][] = [];
  for (const t of targets) {
    tensors.push([downKey(t), { shape: [w.rank, t.in], data: w.down[t.index]! }]);
    tensors.push([upKey(t), { shape: [t.out, w.rank], data: w.up[t.index]! }]);
    tensors.push([alphaKey(t), { shape: [], data: Float32Array.of(w.alpha) }]);
  }
  const metadata = { ...data.metadata };
  if (data.state) {
    if (!data.expAvg || !data.expAvgSq) throw new Error('a checkpoint with resume state needs the optimizer moments');
    for (const t of targets) {
      for (const [moment, list] of [['exp_avg', data.expAvg], ['exp_avg_sq', data.expAvgSq]] as const) {
        tensors.push([`atelier_state.${moment}.${downKey(t)}`, { shape: [w.rank, t.in], data: list[2 * t.index]! }]);
        tensors.push([`atelier_state.${moment}.${upKey(t)}`, { shape: [t.out, w.rank], data: list[2 * t.index + 1]! }]);
      }
    }
    metadata['atelier_state'] = JSON.stringify(data.state);
  }
  return encodeSafetensors(tensors, metadata);
}

/** Reads a LoRA file for `m`'s targets; messages name the file and what does not fit. */
export function decodeLoraFile(m: BundleManifest, buf: Uint8Array, source: string): LoraCheckpointData {
  const targets = loraTargets(m);
  const file = decodeSafetensors(buf, source);
  const get = (name: string): NamedTensor => {
    const t = file.tensors.get(name);
    if (!t) throw new SafetensorsError(`${source} has no tensor ${name}: it is not a LoRA for the model '${m.name}'`);
    return t;
  };
  const first = get(downKey(targets[0]!));
  const rank = first.shape[0]!;
  const alphaT = get(alphaKey(targets[0]!));
  const weights: LoraWeights = { rank, alpha: alphaT.data[0]!, down: [], up: [] };
  for (const t of targets) {
    weights.down[t.index] = get(downKey(t)).data;
    weights.up[t.index] = get(upKey(t)).data;
    const a = get(alphaKey(t)).data[0]!;
    if (a !== weights.alpha) throw new SafetensorsError(`${source}: ${t.key} has alpha ${a}, others ${weights.alpha} (mixed alphas are not supported)`);
  }
  checkLoraFits(m, weights, source);
  const out: LoraCheckpointData = { weights, metadata: file.metadata };
  const stateJson = file.metadata['atelier_state'];
  if (stateJson) {
    out.state = JSON.parse(stateJson) as ResumeState;
    out.expAvg = [];
    out.expAvgSq = [];
    for (const t of targets) {
      out.expAvg.push(get(`atelier_state.exp_avg.${downKey(t)}`).data, get(`atelier_state.exp_avg.${upKey(t)}`).data);
      out.expAvgSq.push(get(`atelier_state.exp_avg_sq.${downKey(t)}`).data, get(`atelier_state.exp_avg_sq.${upKey(t)}`).data);
    }
  }
  return out;
}

/** A LoRA file from disk (the CLI's and the app's `--lora file:weight`). */
export function readLoraFile(m: BundleManifest, path: string): LoraWeights {
  let buf: Uint8Array;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new Error(`cannot read the LoRA file ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  return decodeLoraFile(m, buf, path).weights;
}
