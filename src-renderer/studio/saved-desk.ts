// The saved desk (prompt panel, current image, mask strokes, results on the canvas) as text and
// back. Everything read back is validated; anything malformed gives the empty desk, never a crash.
// Pure module (no DOM): the storage itself is persist.ts.
import { z } from 'zod';
import type { CanvasImage, CanvasRecord } from '../canvas/document';
import type { Stroke as StrokeData } from '../canvas/strokes';
import { Stroke } from '../canvas/strokes';
import type { PromptDraft } from './draft';
import { DEFAULT_DRAFT } from './draft';

const CanvasImageSchema = z.strictObject({
  generationId: z.string().nullable(),
  url: z.string().max(24 * 1024 * 1024),
  width: z.int().min(1),
  height: z.int().min(1),
  label: z.string(),
  parentId: z.string().nullable(),
  parentUrl: z.string().nullable(),
});

const Saved = z.object({
  draft: z.object({
    mode: z.enum(['generate', 'edit', 'inpaint', 'outpaint']),
    prompt: z.string(),
    negativePrompt: z.string(),
    seed: z.int().min(0).max(0xffff_ffff),
    seedLocked: z.boolean(),
    steps: z.int().min(1).max(200),
    cfg: z.number().min(0).max(30),
    strength: z.number().min(0).max(1),
    // Desks saved before edits could keep unchanged cells: the default, on.
    keepUnchanged: z.boolean().default(true),
    model: z.string(),
    // Desks saved before LoRAs existed have none.
    loras: z.array(z.strictObject({ key: z.string().min(1).max(1100), weight: z.number().min(-2).max(2) })).max(8).default([]),
  }),
  current: CanvasImageSchema.nullable(),
  strokes: z.array(Stroke),
  results: z.array(CanvasImageSchema),
});

export interface Desk {
  draft: PromptDraft;
  current: CanvasImage | null;
  strokes: StrokeData[];
  results: CanvasImage[];
}

export interface RestoredDesk {
  draft: PromptDraft;
  records: CanvasRecord[];
  /** True when the draft came from storage (the settings' defaults should not overwrite it). */
  fromStorage: boolean;
}

export const EMPTY_DESK: RestoredDesk = { draft: DEFAULT_DRAFT, records: [{ id: 'current', typeName: 'current', image: null }], fromStorage: false };

export function serialiseDesk(desk: Desk): string {
  return JSON.stringify(desk);
}

/** The desk's records from saved text; the empty desk for missing or malformed text. */
export function parseDesk(text: string | null | undefined): RestoredDesk {
  if (!text) return EMPTY_DESK;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return EMPTY_DESK;
  }
  const result = Saved.safeParse(raw);
  if (!result.success) return EMPTY_DESK;
  const saved = result.data;
  const records: CanvasRecord[] = [{ id: 'current', typeName: 'current', image: saved.current }];
  saved.strokes.forEach((stroke, i) => records.push({ id: `stroke:restored:${i}`, typeName: 'stroke', order: i + 1, stroke }));
  saved.results.forEach((image, i) =>
    records.push({ id: `result:${image.generationId ?? `restored-${i}`}`, typeName: 'result', order: saved.strokes.length + i + 1, image }),
  );
  return { draft: saved.draft, records, fromStorage: true };
}
