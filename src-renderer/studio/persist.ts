// The studio's working state (prompt panel, current image, mask, results on the canvas) kept in the
// page's storage, so a reload or a crash of the window loses no work. History itself lives in the
// core; this is only what is on the desk. Everything read back is validated; a bad entry is dropped.
import { z } from 'zod';
import type { CanvasImage, CanvasRecord } from '../canvas/document';
import { Stroke } from '../canvas/strokes';
import type { PromptDraft } from './draft';
import { DEFAULT_DRAFT } from './draft';

const KEY = 'atelier.studio.v1';

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
    model: z.string(),
  }),
  current: CanvasImageSchema.nullable(),
  strokes: z.array(Stroke),
  results: z.array(CanvasImageSchema),
});
type Saved = z.infer<typeof Saved>;

export interface Restored {
  draft: PromptDraft;
  records: CanvasRecord[];
  /** True when the draft came from storage (the settings' defaults should not overwrite it). */
  fromStorage: boolean;
}

function storage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null; // storage disabled: the studio works, it just forgets on reload
  }
}

export function restoreStudio(): Restored {
  const empty: Restored = { draft: DEFAULT_DRAFT, records: [{ id: 'current', typeName: 'current', image: null }], fromStorage: false };
  const text = storage()?.getItem(KEY);
  if (!text) return empty;
  let parsed: Saved;
  try {
    const result = Saved.safeParse(JSON.parse(text));
    if (!result.success) return empty;
    parsed = result.data;
  } catch {
    return empty;
  }
  const records: CanvasRecord[] = [{ id: 'current', typeName: 'current', image: parsed.current }];
  parsed.strokes.forEach((stroke, i) => records.push({ id: `stroke:restored:${i}`, typeName: 'stroke', order: i + 1, stroke }));
  parsed.results.forEach((image: CanvasImage, i) =>
    records.push({ id: `result:${image.generationId ?? `restored-${i}`}`, typeName: 'result', order: parsed.strokes.length + i + 1, image }),
  );
  return { draft: parsed.draft, records, fromStorage: true };
}

export function saveStudio(state: { draft: PromptDraft; current: CanvasImage | null; strokes: Stroke[]; results: CanvasImage[] }): void {
  const store = storage();
  if (!store) return;
  try {
    store.setItem(KEY, JSON.stringify(state));
  } catch {
    // Over the quota (a huge dropped image): keep what fits, the draft and the mask.
    try {
      store.setItem(KEY, JSON.stringify({ ...state, current: state.current?.url.startsWith('data:') ? null : state.current, results: [] }));
    } catch {
      /* nothing more to do: the studio still works, it only forgets on reload */
    }
  }
}
