// Zoom and pan of the canvas: view state only (never in the undo history). Pure functions.
export interface View {
  /** Screen pixels per image pixel. */
  scale: number;
  /** Where image pixel (0, 0) is on the stage, in screen pixels. */
  x: number;
  y: number;
}

export const MIN_SCALE = 0.05;
export const MAX_SCALE = 64;

const clampScale = (s: number) => Math.min(MAX_SCALE, Math.max(MIN_SCALE, s));

/** Zooms by `factor` keeping the image point under `anchor` (screen coordinates) in place. */
export function zoomAt(view: View, factor: number, anchor: { x: number; y: number }): View {
  const scale = clampScale(view.scale * factor);
  const ix = (anchor.x - view.x) / view.scale;
  const iy = (anchor.y - view.y) / view.scale;
  return { scale, x: anchor.x - ix * scale, y: anchor.y - iy * scale };
}

/** The view that shows a w×h area whole and centred in a stage, with a margin. */
export function fitView(stage: { width: number; height: number }, content: { x: number; y: number; width: number; height: number }, margin = 32): View {
  const sw = Math.max(1, stage.width - margin * 2);
  const sh = Math.max(1, stage.height - margin * 2);
  const scale = clampScale(Math.min(sw / Math.max(1, content.width), sh / Math.max(1, content.height)));
  return {
    scale,
    x: (stage.width - content.width * scale) / 2 - content.x * scale,
    y: (stage.height - content.height * scale) / 2 - content.y * scale,
  };
}

export function screenToImage(view: View, point: { x: number; y: number }): { x: number; y: number } {
  return { x: (point.x - view.x) / view.scale, y: (point.y - view.y) / view.scale };
}
