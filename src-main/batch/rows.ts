// One row of a prompt list, checked. CSV gives strings and JSONL gives JSON values; both go through
// the same checks and produce either the row's parameters or every problem with it, in words.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';

export interface LoraRef {
  name: string;
  weight: number;
}

/** What one row asks for. Parameters left out take the batch's defaults, then the model's. */
export interface BatchRowParams {
  prompt: string;
  /** Fixed when the batch is created (from the row, or the batch's base seed + row index). */
  seed?: number;
  steps?: number;
  cfg?: number;
  /** Requested image size; must match what the model makes. */
  size?: { width: number; height: number };
  /** A model name under the models folder, or a bundle folder. */
  model?: string;
  /** LoRA .safetensors files (relative to the list's folder; `.safetensors` may be left out) and weights. */
  loras?: LoraRef[];
  /** Edit rows: the source image (absolute path) and how strongly to move away from it. */
  image?: string;
  strength?: number;
  sampler?: 'euler' | 'heun';
}

export type RowCheck = { ok: true; params: BatchRowParams } | { ok: false; errors: string[] };

/** Column names as written → the field they fill (lower-case; spaces and dashes become `_`). */
const ALIASES: Record<string, keyof BatchRowParams | 'instruction' | 'width' | 'height'> = {
  prompt: 'prompt',
  text: 'prompt',
  instruction: 'instruction',
  seed: 'seed',
  steps: 'steps',
  cfg: 'cfg',
  cfg_scale: 'cfg',
  guidance: 'cfg',
  size: 'size',
  width: 'width',
  height: 'height',
  model: 'model',
  loras: 'loras',
  lora: 'loras',
  image: 'image',
  source: 'image',
  source_image: 'image',
  edit_image: 'image',
  init_image: 'image',
  strength: 'strength',
  denoising_strength: 'strength',
  sampler: 'sampler',
};

export const KNOWN_COLUMNS = Object.keys(ALIASES);

export function columnField(name: string): string | null {
  const key = name.trim().toLowerCase().replace(/[\s-]+/g, '_');
  return ALIASES[key] ?? null;
}

const MAX_PROMPT = 4000;

function isBlank(v: unknown): boolean {
  return v === undefined || v === null || (typeof v === 'string' && v.trim() === '');
}

function number(v: unknown, what: string, errors: string[], opts: { integer?: boolean; min: number; max: number }): number | undefined {
  if (isBlank(v)) return undefined;
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v.trim()) : NaN;
  if (!Number.isFinite(n) || (opts.integer && !Number.isInteger(n))) {
    errors.push(`${what} must be ${opts.integer ? 'a whole number' : 'a number'} (got ${JSON.stringify(v)})`);
    return undefined;
  }
  if (n < opts.min || n > opts.max) {
    errors.push(`${what} must be between ${opts.min} and ${opts.max} (got ${n})`);
    return undefined;
  }
  return n;
}

function text(v: unknown, what: string, errors: string[]): string | undefined {
  if (isBlank(v)) return undefined;
  if (typeof v !== 'string') {
    errors.push(`${what} must be text (got ${JSON.stringify(v)})`);
    return undefined;
  }
  return v;
}

function size(v: unknown, errors: string[]): { width: number; height: number } | undefined {
  if (isBlank(v)) return undefined;
  let w: unknown;
  let h: unknown;
  if (typeof v === 'string') {
    const m = /^\s*(\d+)\s*[x×X*]\s*(\d+)\s*$/.exec(v);
    if (!m) {
      errors.push(`size must look like 512x512 (got ${JSON.stringify(v)})`);
      return undefined;
    }
    [w, h] = [Number(m[1]), Number(m[2])];
  } else if (Array.isArray(v) && v.length === 2) [w, h] = v;
  else if (typeof v === 'object' && v !== null) [w, h] = [(v as { width?: unknown }).width, (v as { height?: unknown }).height];
  else {
    errors.push(`size must be "WxH", [w, h] or {"width", "height"} (got ${JSON.stringify(v)})`);
    return undefined;
  }
  const before = errors.length;
  const width = number(w, 'size width', errors, { integer: true, min: 8, max: 8192 });
  const height = number(h, 'size height', errors, { integer: true, min: 8, max: 8192 });
  if (errors.length > before || width === undefined || height === undefined) return undefined;
  return { width, height };
}

function loras(v: unknown, errors: string[]): LoraRef[] | undefined {
  if (isBlank(v)) return undefined;
  // CSV: "name:0.8; other" — JSONL: ["name:0.8", {"name": "other", "weight": 0.5}]
  const items: unknown[] = typeof v === 'string' ? v.split(/[;|]/).map((s) => s.trim()).filter(Boolean) : Array.isArray(v) ? v : [v];
  const out: LoraRef[] = [];
  for (const item of items) {
    let name: unknown;
    let weight: unknown = 1;
    if (typeof item === 'string') {
      const m = /^(.*?)(?::\s*([-+]?[\d.]+(?:e[-+]?\d+)?))?$/i.exec(item.trim().replace(/^<lora:/i, '').replace(/>$/, ''));
      name = m?.[1]?.trim();
      if (m?.[2] !== undefined) weight = Number(m[2]);
    } else if (typeof item === 'object' && item !== null) {
      name = (item as { name?: unknown }).name;
      weight = (item as { weight?: unknown }).weight ?? 1;
    }
    if (typeof name !== 'string' || name.trim() === '' || name.length > 200) {
      errors.push(`each LoRA needs a name, as "name" or "name:weight" (got ${JSON.stringify(item)})`);
      continue;
    }
    const w = number(weight, `LoRA ${name} weight`, errors, { min: -4, max: 4 });
    if (w !== undefined) out.push({ name: name.trim(), weight: w });
  }
  return out.length ? out : undefined;
}

/**
 * Checks one row. `fields` maps column names (any spelling in ALIASES) to values; unknown columns
 * are ignored here (the parser warns about them once per file). Relative image paths are resolved
 * against `baseDir`, the prompt file's folder.
 */
export function checkRow(fields: Record<string, unknown>, baseDir: string): RowCheck {
  const errors: string[] = [];
  const v: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(fields)) {
    const field = columnField(name);
    if (field && !isBlank(value)) {
      if (v[field] !== undefined) errors.push(`'${name}' repeats a column already given`);
      v[field] = value;
    }
  }
  const prompt = text(v.prompt, 'prompt', errors);
  const instruction = text(v.instruction, 'instruction', errors);
  const image = text(v.image, 'image', errors);
  let wording = instruction ?? prompt;
  if (instruction !== undefined && prompt !== undefined && instruction !== prompt) {
    errors.push('give either prompt or instruction, not both');
  }
  if (wording !== undefined) wording = wording.replace(/\r\n?/g, '\n').trim();
  if (!wording) errors.push(image ? 'an edit row needs an instruction (or prompt)' : 'the prompt is empty');
  else if (wording.length > MAX_PROMPT) errors.push(`the prompt is ${wording.length} characters; at most ${MAX_PROMPT}`);
  else if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(wording)) errors.push('the prompt holds control characters');

  const params: BatchRowParams = { prompt: wording ?? '' };
  const seed = number(v.seed, 'seed', errors, { integer: true, min: 0, max: 0xffff_ffff });
  if (seed !== undefined) params.seed = seed;
  const steps = number(v.steps, 'steps', errors, { integer: true, min: 1, max: 200 });
  if (steps !== undefined) params.steps = steps;
  const cfg = number(v.cfg, 'cfg', errors, { min: 0, max: 30 });
  if (cfg !== undefined) params.cfg = cfg;
  if (v.size !== undefined && (v.width !== undefined || v.height !== undefined)) errors.push('give size or width/height, not both');
  else if ((v.width === undefined) !== (v.height === undefined)) errors.push('give both width and height');
  const sz = v.size !== undefined ? size(v.size, errors) : v.width !== undefined || v.height !== undefined ? size([v.width, v.height].map((x) => (typeof x === 'string' ? Number(x) : x)), errors) : undefined;
  if (sz) params.size = sz;
  const model = text(v.model, 'model', errors);
  if (model !== undefined) params.model = model.trim();
  const l = loras(v.loras, errors);
  if (l) params.loras = l;
  const strength = number(v.strength, 'strength', errors, { min: 0.01, max: 1 });
  if (strength !== undefined) {
    if (!image) errors.push('strength applies to edit rows only (give an image)');
    params.strength = strength;
  }
  const sampler = text(v.sampler, 'sampler', errors);
  if (sampler !== undefined) {
    const s = sampler.trim().toLowerCase();
    if (s === 'euler' || s === 'heun') params.sampler = s;
    else errors.push(`sampler must be euler or heun (got ${JSON.stringify(sampler)})`);
  }
  if (image !== undefined) {
    const file = path.resolve(baseDir, image.trim());
    let isFile = false;
    try {
      isFile = existsSync(file) && statSync(file).isFile();
    } catch {
      isFile = false;
    }
    if (!isFile) errors.push(`the source image ${JSON.stringify(image)} was not found (looked for ${file})`);
    else params.image = file;
  }
  return errors.length ? { ok: false, errors } : { ok: true, params };
}
