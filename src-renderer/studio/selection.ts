// The history gallery's multi-selection, pure (no DOM, unit-tested in tests/unit/renderer):
// click toggles one item, Shift+click applies the clicked item's new state to the whole range from
// the last clicked item (as in a mail client's list), "select all" adds the shown items. Ids stay
// selected when a filter hides them; the export sends the shown ones in gallery order first.
import type { RouteOutput } from '../../src-shared/contract';

export interface Selection {
  /** Selected ids, in the order they were selected. */
  readonly ids: readonly string[];
  /** The last item clicked: one end of the next Shift+click range. */
  readonly anchor: string | null;
}

export const EMPTY_SELECTION: Selection = { ids: [], anchor: null };

export function isSelected(selection: Selection, id: string): boolean {
  return selection.ids.includes(id);
}

/** Adds (`on`) or removes ids, keeping the order of the others; new ids go last in the given order. */
function setMany(ids: readonly string[], changed: readonly string[], on: boolean): string[] {
  const change = new Set(changed);
  if (!on) return ids.filter((id) => !change.has(id));
  const out = [...ids];
  const have = new Set(ids);
  for (const id of changed) {
    if (have.has(id)) continue;
    have.add(id);
    out.push(id);
  }
  return out;
}

/** Plain click: flips one item; it becomes the anchor. */
export function toggle(selection: Selection, id: string): Selection {
  return { ids: setMany(selection.ids, [id], !isSelected(selection, id)), anchor: id };
}

/**
 * Shift+click on `id`: every item of `order` between the anchor and `id` (both included) takes the
 * state `id` gets (selected when it was not, cleared when it was). Without an anchor that is still
 * shown, a plain toggle.
 */
export function selectRange(selection: Selection, order: readonly string[], id: string): Selection {
  const from = selection.anchor === null ? -1 : order.indexOf(selection.anchor);
  const to = order.indexOf(id);
  if (from < 0 || to < 0) return toggle(selection, id);
  const range = order.slice(Math.min(from, to), Math.max(from, to) + 1);
  return { ids: setMany(selection.ids, range, !isSelected(selection, id)), anchor: id };
}

/** A click on an item in selection mode, with or without Shift. */
export function clickItem(selection: Selection, order: readonly string[], id: string, shift: boolean): Selection {
  return shift ? selectRange(selection, order, id) : toggle(selection, id);
}

/** "Select all (shown)": adds every shown item; the ones selected before stay. */
export function selectAll(selection: Selection, shown: readonly string[]): Selection {
  return { ids: setMany(selection.ids, shown, true), anchor: selection.anchor };
}

/** Drops ids that no longer exist (an item deleted). */
export function without(selection: Selection, gone: readonly string[]): Selection {
  const ids = setMany(selection.ids, gone, false);
  if (ids.length === selection.ids.length) return selection;
  return { ids, anchor: selection.anchor !== null && gone.includes(selection.anchor) ? null : selection.anchor };
}

/** The order to export in: selected items as the gallery shows them, then the hidden ones as selected. */
export function exportOrder(selection: Selection, shown: readonly string[]): string[] {
  const selected = new Set(selection.ids);
  const visible = shown.filter((id) => selected.has(id));
  const seen = new Set(visible);
  return [...visible, ...selection.ids.filter((id) => !seen.has(id))];
}

export type ExportOutcome = RouteOutput<'batch.export'>;

/** One line for a finished export: "2 files written; manifest: …; zip: …" (", 1 failed" after the count). */
export function exportSummary(result: ExportOutcome): string {
  const failed = result.failed.length ? `, ${result.failed.length} failed` : '';
  return `${result.exported} file${result.exported === 1 ? '' : 's'} written${failed}; manifest: ${result.manifest}${result.zip ? `; zip: ${result.zip}` : ''}`;
}

/** One line per item that could not be written, named by `nameOf` (a prompt) when it knows the id. */
export function exportFailures(result: ExportOutcome, nameOf: (generationId: string) => string | undefined = () => undefined): string[] {
  return result.failed.map((f) => {
    const name = (f.generationId !== null ? nameOf(f.generationId) : undefined) ?? (f.generationId ?? `item ${f.index}`);
    return `${name}: ${f.error}`;
  });
}
