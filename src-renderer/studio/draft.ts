// What the prompt panel holds, and how "reuse parameters" fills it from a history item or from the
// parameters read out of a dropped PNG (A1111 text or Atelier's JSON). Pure module (no DOM).
import type { AvailableLora, HistoryItem, ImageParameters, LoraChoice } from '../../src-shared/contract';
import { loraChoiceFromKey } from '../../src-shared/contract';

export type Mode = 'generate' | 'edit' | 'inpaint' | 'outpaint';

export interface PromptDraft {
  mode: Mode;
  prompt: string;
  negativePrompt: string;
  seed: number;
  /** Locked: the seed field is used as is; unlocked: a fresh random seed per job. */
  seedLocked: boolean;
  steps: number;
  cfg: number;
  /** Edit/inpaint: how far the result may move from the source (1 = ignore it). */
  strength: number;
  /** Edit: keep the source where the model kept its image tokens (on by default). */
  keepUnchanged: boolean;
  /** A model bundle id; '' picks the default. */
  model: string;
  /** LoRAs applied, by key (`run:<id>` / `file:<path>`, see lora.available), each with its weight. */
  loras: DraftLora[];
}

export interface DraftLora {
  key: string;
  weight: number;
}

/** The slider's range and step (the contract allows −2…2; a file can carry any of those). */
export const LORA_WEIGHT = { min: -1, max: 2, step: 0.05 } as const;
export const MAX_LORAS = 8;

/** A weight on the slider's grid, within the contract's bounds (no 0.15000000000000002). */
export function roundLoraWeight(w: number): number {
  const clamped = Math.min(2, Math.max(-2, Number.isFinite(w) ? w : 1));
  const r = Math.round(clamped / LORA_WEIGHT.step) / (1 / LORA_WEIGHT.step);
  return r === 0 ? 0 : r; // never -0
}

/** What a job sends for the draft's LoRAs (keys that are neither form are left out). */
export function loraChoicesOf(loras: readonly DraftLora[]): LoraChoice[] {
  return loras.flatMap((l) => {
    const choice = loraChoiceFromKey(l.key, l.weight);
    return choice ? [choice] : [];
  });
}

/** The LoRAs a history item recorded (`params.loras: [{ key, name, weight }]`); [] for none. */
export function lorasFromParams(params: Record<string, unknown>): DraftLora[] {
  const list = params.loras;
  if (!Array.isArray(list)) return [];
  const out: DraftLora[] = [];
  for (const entry of list) {
    const e = entry as { key?: unknown; weight?: unknown } | null;
    if (typeof e?.key !== 'string' || typeof e.weight !== 'number' || !Number.isFinite(e.weight)) continue;
    if (out.some((l) => l.key === e.key) || out.length >= MAX_LORAS) continue;
    out.push({ key: e.key, weight: Math.min(2, Math.max(-2, e.weight)) });
  }
  return out;
}

export const MAX_SEED = 0xffff_ffff;

export const DEFAULT_DRAFT: PromptDraft = {
  mode: 'generate', prompt: '', negativePrompt: '', seed: 0, seedLocked: false, steps: 20, cfg: 4.5, strength: 1, keepUnchanged: true, model: '', loras: [],
};

const clampInt = (v: number, min: number, max: number) => Math.min(max, Math.max(min, Math.trunc(v)));
const num = (v: unknown): number | null => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
  return Number.isFinite(n) ? n : null;
};

/** The parts of a draft a set of parameters changes (unknown values leave the field as it was). */
export type DraftPatch = Partial<Omit<PromptDraft, 'mode'>>;

export function patchFromHistoryItem(item: HistoryItem): DraftPatch {
  // The item's LoRAs replace the panel's (none recorded = it was made without LoRAs).
  const patch: DraftPatch = { prompt: item.prompt, negativePrompt: item.negativePrompt, seedLocked: true, loras: lorasFromParams(item.params) };
  if (Number.isFinite(item.seed)) patch.seed = clampInt(item.seed, 0, MAX_SEED);
  const steps = num(item.params.steps);
  if (steps !== null) patch.steps = clampInt(steps, 1, 200);
  const cfg = num(item.params.cfg);
  if (cfg !== null) patch.cfg = Math.min(30, Math.max(0, cfg));
  const strength = num(item.params.strength);
  if (strength !== null) patch.strength = Math.min(1, Math.max(0, strength));
  if (typeof item.params.keepUnchanged === 'boolean') patch.keepUnchanged = item.params.keepUnchanged;
  return patch;
}

/** `name: 0.8, other: 1` (what Atelier writes in the A1111 `LoRAs` field) → [{name, weight}]. */
function parseLoraList(text: string): { name: string; weight: number }[] {
  return text.split(/,\s*/).flatMap((part) => {
    const at = part.lastIndexOf(':');
    const weight = at > 0 ? num(part.slice(at + 1)) : null;
    const name = (at > 0 ? part.slice(0, at) : part).trim();
    return name ? [{ name, weight: weight ?? 1 }] : [];
  });
}

export interface ImageLoras {
  /** Whether the PNG says which LoRAs made it (Atelier's JSON always does; A1111 text only with a `LoRAs` field). */
  recorded: boolean;
  /** The recorded LoRAs that are installed (matched by name, as lora.available names them). */
  loras: DraftLora[];
  /** Recorded names with no installed LoRA of that name. */
  missing: string[];
}

/** The LoRAs a dropped PNG records, matched by name against the installed ones. */
export function lorasFromImage(read: ImageParameters, available: readonly AvailableLora[]): ImageLoras {
  let list: { name: string; weight: number }[] | null = null;
  const a = read.atelier;
  if (a && typeof a.prompt === 'string') {
    list = Array.isArray(a.loras)
      ? a.loras.flatMap((l) => {
          const e = l as { name?: unknown; weight?: unknown } | null;
          const weight = num(e?.weight);
          return typeof e?.name === 'string' ? [{ name: e.name, weight: weight ?? 1 }] : [];
        })
      : [];
  } else if (read.parameters && typeof read.parameters.params['LoRAs'] === 'string') {
    list = parseLoraList(read.parameters.params['LoRAs']);
  }
  if (!list) return { recorded: false, loras: [], missing: [] };
  const loras: DraftLora[] = [];
  const missing: string[] = [];
  for (const { name, weight } of list) {
    const found = available.find((l) => l.name === name);
    if (!found) missing.push(name);
    else if (!loras.some((l) => l.key === found.key) && loras.length < MAX_LORAS) loras.push({ key: found.key, weight: roundLoraWeight(weight) });
  }
  return { recorded: true, loras, missing };
}

/** Parameters from a PNG: Atelier's JSON wins (it is complete), else the A1111 text. LoRAs it records
 * replace the panel's when `available` (lora.available) has them by name. */
export function patchFromImageParameters(read: ImageParameters, available: readonly AvailableLora[] = []): DraftPatch | null {
  const imageLoras = lorasFromImage(read, available);
  const withLoras = (patch: DraftPatch): DraftPatch => (imageLoras.recorded ? { ...patch, loras: imageLoras.loras } : patch);
  const a = read.atelier;
  if (a && typeof a.prompt === 'string') {
    const patch: DraftPatch = { prompt: a.prompt, negativePrompt: '', seedLocked: true };
    const seed = num(a.seed);
    if (seed !== null) patch.seed = clampInt(seed, 0, MAX_SEED);
    const steps = num(a.steps);
    if (steps !== null) patch.steps = clampInt(steps, 1, 200);
    const cfg = num(a.cfg_scale);
    if (cfg !== null) patch.cfg = Math.min(30, Math.max(0, cfg));
    const strength = num(a.strength);
    if (strength !== null) patch.strength = Math.min(1, Math.max(0, strength));
    return withLoras(patch);
  }
  const p = read.parameters;
  if (!p) return null;
  const patch: DraftPatch = { prompt: p.prompt, negativePrompt: p.negativePrompt };
  const seed = num(p.params.Seed);
  if (seed !== null && seed >= 0) {
    patch.seed = clampInt(seed, 0, MAX_SEED);
    patch.seedLocked = true;
  }
  const steps = num(p.params.Steps);
  if (steps !== null) patch.steps = clampInt(steps, 1, 200);
  const cfg = num(p.params['CFG scale']);
  if (cfg !== null) patch.cfg = Math.min(30, Math.max(0, cfg));
  const strength = num(p.params['Denoising strength']);
  if (strength !== null) patch.strength = Math.min(1, Math.max(0, strength));
  return withLoras(patch);
}

/** A one-line summary of the parameters found, for the drop notice. */
export function describePatch(patch: DraftPatch): string {
  const parts: string[] = [];
  if (patch.seed !== undefined) parts.push(`seed ${patch.seed}`);
  if (patch.steps !== undefined) parts.push(`${patch.steps} steps`);
  if (patch.cfg !== undefined) parts.push(`CFG ${patch.cfg}`);
  if (patch.loras?.length) parts.push(`${patch.loras.length} LoRA${patch.loras.length > 1 ? 's' : ''}`);
  return parts.join(' · ');
}
