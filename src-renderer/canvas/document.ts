// The canvas document: the records undo/redo works on. The current image (what edits start from),
// the mask strokes, and the results placed on the canvas. Zoom, pan, tool and brush settings are
// view state and live elsewhere. Pure module (no DOM).
import type { Stroke } from './strokes';
import { translateStroke } from './strokes';
import { DocumentHistory } from './history';

/** An image on the canvas: from history (generationId) or brought in from a file (no id). */
export interface CanvasImage {
  generationId: string | null;
  /** Anything an <img> loads: a history URL or a data URL. */
  url: string;
  width: number;
  height: number;
  label: string;
  /** The image it was made from, for the before/after compare. */
  parentId: string | null;
  parentUrl: string | null;
}

export interface CurrentRecord {
  readonly id: 'current';
  readonly typeName: 'current';
  readonly image: CanvasImage | null;
}

export interface StrokeRecord {
  readonly id: string;
  readonly typeName: 'stroke';
  /** Strokes apply in this order. */
  readonly order: number;
  readonly stroke: Stroke;
}

export interface ResultRecord {
  readonly id: string;
  readonly typeName: 'result';
  readonly order: number;
  readonly image: CanvasImage;
}

export type CanvasRecord = CurrentRecord | StrokeRecord | ResultRecord;

let counter = 0;
/** Ids unique within this page (records are never persisted). */
export function newRecordId(prefix: string): string {
  counter += 1;
  return `${prefix}:${Date.now().toString(36)}:${counter}`;
}

export function createCanvasHistory(initial: readonly CanvasRecord[] = [{ id: 'current', typeName: 'current', image: null }]): DocumentHistory<CanvasRecord> {
  return new DocumentHistory<CanvasRecord>(initial);
}

export function strokesOf(records: Readonly<Record<string, CanvasRecord>>): Stroke[] {
  return Object.values(records)
    .filter((r): r is StrokeRecord => r.typeName === 'stroke')
    .sort((a, b) => a.order - b.order)
    .map((r) => r.stroke);
}

export function strokeRecordIds(records: Readonly<Record<string, CanvasRecord>>): string[] {
  return Object.values(records).filter((r) => r.typeName === 'stroke').map((r) => r.id);
}

export function resultsOf(records: Readonly<Record<string, CanvasRecord>>): ResultRecord[] {
  return Object.values(records)
    .filter((r): r is ResultRecord => r.typeName === 'result')
    .sort((a, b) => a.order - b.order);
}

export function currentOf(records: Readonly<Record<string, CanvasRecord>>): CanvasImage | null {
  const record = records.current;
  return record && record.typeName === 'current' ? record.image : null;
}

function nextOrder(records: Readonly<Record<string, CanvasRecord>>): number {
  let max = 0;
  for (const r of Object.values(records)) if (r.typeName !== 'current' && r.order > max) max = r.order;
  return max + 1;
}

/** The canvas's user actions, each one mark plus one diff in the history. */
export const canvasActions = {
  addStroke(history: DocumentHistory<CanvasRecord>, stroke: Stroke, label = `${stroke.type} stroke`): void {
    history.change(label, [{ id: newRecordId('stroke'), typeName: 'stroke', order: nextOrder(history.records), stroke }]);
  },
  /** Replaces every stroke by one (invert, load from file). */
  replaceStrokes(history: DocumentHistory<CanvasRecord>, stroke: Stroke, label: string): void {
    history.change(label, [{ id: newRecordId('stroke'), typeName: 'stroke', order: nextOrder(history.records), stroke }], strokeRecordIds(history.records));
  },
  /** Clears the mask and keeps the image. */
  clearMask(history: DocumentHistory<CanvasRecord>): void {
    history.change('clear mask', [], strokeRecordIds(history.records));
  },
  /** Makes an image the one edits start from; the mask stays (it is kept across retries). */
  setCurrent(history: DocumentHistory<CanvasRecord>, image: CanvasImage, label = 'open image'): void {
    history.change(label, [{ id: 'current', typeName: 'current', image }]);
  },
  /**
   * A finished result: placed on the canvas, and the current image from now on. `shift` moves the
   * mask with the old pixels when an outpaint grew the image to the left or top.
   */
  placeResult(history: DocumentHistory<CanvasRecord>, image: CanvasImage, shift = { dx: 0, dy: 0 }): void {
    const id = `result:${image.generationId ?? newRecordId('file')}`;
    const put: CanvasRecord[] = [{ id: 'current', typeName: 'current', image }];
    if (!history.get(id)) put.push({ id, typeName: 'result', order: nextOrder(history.records), image });
    if (shift.dx !== 0 || shift.dy !== 0) {
      for (const r of Object.values(history.records)) {
        if (r.typeName === 'stroke') put.push({ ...r, stroke: translateStroke(r.stroke, shift.dx, shift.dy) });
      }
    }
    history.change('result', put);
  },
};
