// The tools above the canvas: mask brush/eraser with size and hardness, mask commands, undo/redo,
// zoom, the before/after compare, and the shortcuts help.
import { useRef } from 'react';
import type { Tool } from './CanvasView';

interface CanvasToolbarProps {
  tool: Tool;
  onTool(tool: Tool): void;
  brushSize: number;
  onBrushSize(size: number): void;
  hardness: number;
  onHardness(hardness: number): void;
  maskVisible: boolean;
  onMaskVisible(visible: boolean): void;
  resultsVisible: boolean;
  onResultsVisible(visible: boolean): void;
  hasImage: boolean;
  hasMask: boolean;
  onInvert(): void;
  onClearMask(): void;
  onLoadMask(file: File): void;
  canUndo: boolean;
  canRedo: boolean;
  undoLabel: string | null;
  onUndo(): void;
  onRedo(): void;
  onZoom(factor: number): void;
  onFit(): void;
  canCompare: boolean;
  compare: number | null;
  onCompare(value: number | null): void;
  onHelp(): void;
}

export function CanvasToolbar(p: CanvasToolbarProps) {
  const fileInput = useRef<HTMLInputElement>(null);
  return (
    <div className="canvas-toolbar" role="toolbar" aria-label="Canvas tools">
      <div className="tool-group">
        <button type="button" className={p.tool === 'brush' ? 'tool on' : 'tool'} aria-pressed={p.tool === 'brush'} onClick={() => p.onTool('brush')} title="Mask brush (B)">Brush</button>
        <button type="button" className={p.tool === 'eraser' ? 'tool on' : 'tool'} aria-pressed={p.tool === 'eraser'} onClick={() => p.onTool('eraser')} title="Mask eraser (E)">Eraser</button>
        <label className="slider" title="Brush size ([ and ])">
          <span>Size {p.brushSize}</span>
          <input type="range" aria-label="Brush size" min={1} max={256} value={p.brushSize} onChange={(e) => p.onBrushSize(Number(e.target.value))} />
        </label>
        <label className="slider" title="Hardness: 100 % hard edge, lower feathers it">
          <span>Hardness {Math.round(p.hardness * 100)}%</span>
          <input type="range" aria-label="Hardness" min={0} max={100} value={Math.round(p.hardness * 100)} onChange={(e) => p.onHardness(Number(e.target.value) / 100)} />
        </label>
      </div>
      <div className="tool-group">
        <button type="button" className={p.maskVisible ? 'tool on' : 'tool'} aria-pressed={p.maskVisible} onClick={() => p.onMaskVisible(!p.maskVisible)} title="Mask layer: show / hide (M)">Mask</button>
        <button type="button" className={p.resultsVisible ? 'tool on' : 'tool'} aria-pressed={p.resultsVisible} onClick={() => p.onResultsVisible(!p.resultsVisible)} title="Results layer: the results of this session under the image">Results</button>
        <button type="button" onClick={p.onInvert} disabled={!p.hasImage} title="Invert the mask (I)">Invert</button>
        <button type="button" onClick={p.onClearMask} disabled={!p.hasMask} title="Clear the mask, keep the image">Clear mask</button>
        <button type="button" onClick={() => fileInput.current?.click()} disabled={!p.hasImage} title="Load a mask from an image file (white = repaint)">Load mask…</button>
        <input
          ref={fileInput}
          type="file"
          accept="image/png,image/jpeg,image/webp"
          hidden
          data-testid="mask-file"
          onChange={(e) => {
            const file = e.target.files?.[0];
            if (file) p.onLoadMask(file);
            e.target.value = '';
          }}
        />
      </div>
      <div className="tool-group">
        <button type="button" onClick={p.onUndo} disabled={!p.canUndo} title={`Undo${p.undoLabel ? ` ${p.undoLabel}` : ''} (Ctrl+Z)`} aria-label="Undo">↶</button>
        <button type="button" onClick={p.onRedo} disabled={!p.canRedo} title="Redo (Ctrl+Shift+Z)" aria-label="Redo">↷</button>
      </div>
      <div className="tool-group">
        <button type="button" onClick={() => p.onZoom(1 / 1.25)} aria-label="Zoom out" title="Zoom out (-)">−</button>
        <button type="button" onClick={p.onFit} title="Fit (0)">Fit</button>
        <button type="button" onClick={() => p.onZoom(1.25)} aria-label="Zoom in" title="Zoom in (+)">+</button>
      </div>
      <div className="tool-group">
        <button
          type="button"
          className={p.compare !== null ? 'tool on' : 'tool'}
          aria-pressed={p.compare !== null}
          disabled={!p.canCompare}
          onClick={() => p.onCompare(p.compare === null ? 0.5 : null)}
          title="Before / after (C): the source on the left of the line, the result on the right"
        >
          Compare
        </button>
        {p.compare !== null && (
          <input type="range" aria-label="Compare position" min={0} max={100} value={Math.round(p.compare * 100)} onChange={(e) => p.onCompare(Number(e.target.value) / 100)} />
        )}
      </div>
      <button type="button" className="help-button" onClick={p.onHelp} aria-label="Keyboard shortcuts" title="Keyboard shortcuts (?)">?</button>
    </div>
  );
}
