// What Atelier writes into each PNG: the A1111 `parameters` text (read by Civitai and most tools)
// and its own `atelier` JSON with everything needed to reproduce the image, lineage included.
import type { A1111Parameters } from './a1111';
import { formatA1111, parseA1111 } from './a1111';
import { readTextChunks, withTextChunks } from './png-chunks';

export type GenerationMode = 'text-to-image' | 'edit' | 'inpaint' | 'outpaint' | 'variation';

export interface AtelierMetadata {
  app: 'atelier';
  engine_version: string;
  mode: GenerationMode;
  prompt: string;
  seed: number;
  batch_index: number;
  steps: number;
  cfg_scale: number;
  sampler: string;
  shift: number;
  ar: { temperature: number; top_k: number; top_p: number; cfg_scale: number };
  width: number;
  height: number;
  /** `generator: 'edit'` when an edit-template run (edit, variation) used the bundle's edit generator (absent: its own weights). */
  model: { name: string; variant: string; hash: string; generator?: 'edit' };
  execution_provider: string | null;
  /** The image this one was made from (edit/inpaint/variation), by content hash, and its record id if known. */
  parent: { sha256: string; id?: string } | null;
  /** Variation/img2img strength (fraction of the schedule run). */
  strength?: number;
  /** LoRAs applied to the DiT (absent when none). */
  loras?: { name: string; weight: number; rank: number }[];
  /** Inpaint: the mask's content hash (of the file, or of the grey pixels when given as data). */
  mask?: { sha256: string };
  /** Edit that kept the input where its AR kept the code: how many of the code grid's cells it kept. */
  keep_unchanged?: { cells_kept: number; cells: number };
  /** Outpaint margins in pixels. */
  outpaint?: { left: number; top: number; right: number; bottom: number };
  warnings: string[];
  created: string;
}

export const PARAMETERS_KEY = 'parameters';
export const ATELIER_KEY = 'atelier';

export function toA1111(meta: AtelierMetadata): A1111Parameters {
  const params: Record<string, string> = {
    Steps: String(meta.steps),
    Sampler: meta.sampler,
    'CFG scale': String(meta.cfg_scale),
    Seed: String(meta.seed),
    Size: `${meta.width}x${meta.height}`,
    'Model hash': meta.model.hash.slice(0, 10),
    Model: meta.model.name,
    'Schedule shift': String(meta.shift),
  };
  if (meta.strength !== undefined) params['Denoising strength'] = String(meta.strength);
  if (meta.loras?.length) params['LoRAs'] = meta.loras.map((l) => `${l.name}: ${l.weight}`).join(', ');
  if (meta.mode !== 'text-to-image') params['Atelier mode'] = meta.mode;
  params['Version'] = `atelier ${meta.engine_version}`;
  return { prompt: meta.prompt, negativePrompt: '', params };
}

export function addMetadata(png: Uint8Array, meta: AtelierMetadata): Uint8Array {
  return withTextChunks(
    png,
    [
      { keyword: PARAMETERS_KEY, text: formatA1111(toA1111(meta)) },
      { keyword: ATELIER_KEY, text: JSON.stringify(meta) },
    ],
    { forceItxt: [ATELIER_KEY] },
  );
}

export interface ReadMetadata {
  parameters: A1111Parameters | null;
  atelier: AtelierMetadata | null;
  /** Every text chunk, for tools that write other keys (ComfyUI `prompt`, InvokeAI …). */
  raw: Record<string, string>;
}

export function readMetadata(png: Uint8Array): ReadMetadata {
  const raw: Record<string, string> = {};
  for (const e of readTextChunks(png)) raw[e.keyword] = e.text;
  let atelier: AtelierMetadata | null = null;
  if (raw[ATELIER_KEY] !== undefined) {
    try {
      const parsed = JSON.parse(raw[ATELIER_KEY]) as AtelierMetadata;
      if (parsed && parsed.app === 'atelier') atelier = parsed;
    } catch {
      atelier = null; // a damaged chunk: the A1111 text may still be readable
    }
  }
  return { parameters: raw[PARAMETERS_KEY] !== undefined ? parseA1111(raw[PARAMETERS_KEY]) : null, atelier, raw };
}
