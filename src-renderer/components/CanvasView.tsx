// The canvas (react-konva): the current image, the mask painted over it, the results placed beside
// it, a job's live preview, the before/after compare and the outpaint box. Zoom (wheel, +/-) and pan
// (space-drag, middle-drag) are view state. The stroke being drawn goes from the StrokeBuffer straight
// to a Konva line; only pointer-up commits it to the document (one undo step).
import type Konva from 'konva';
import { memo, useCallback, useEffect, useImperativeHandle, useMemo, useRef, useState } from 'react';
import type { Ref } from 'react';
import { Circle, Group, Image as KonvaImage, Layer, Line, Rect, Stage, Text } from 'react-konva';
import type { CanvasImage, ResultRecord } from '../canvas/document';
import { MaskRaster, maskedCount } from '../canvas/mask-raster';
import { StrokeBuffer } from '../canvas/stroke-buffer';
import type { Stroke } from '../canvas/strokes';
import type { View } from '../canvas/view';
import { fitView, screenToImage, zoomAt } from '../canvas/view';
import { useImage } from '../hooks/useImage';

export type Tool = 'brush' | 'eraser';

export interface Margins {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

export interface CanvasCommands {
  zoomBy(factor: number): void;
  fit(): void;
}

export interface CanvasViewProps {
  current: CanvasImage | null;
  strokes: Stroke[];
  results: ResultRecord[];
  tool: Tool;
  brushSize: number;
  hardness: number;
  maskVisible: boolean;
  maskOpacity: number;
  /** A running job's preview, drawn over the image area. */
  preview: string | null;
  /** Where a new image appears when nothing is open (the model's size). */
  emptySize: { width: number; height: number };
  /** 0…1: the before image is shown left of this fraction; null hides the compare. */
  compare: number | null;
  outpaint: Margins | null;
  /** Dragging the outpaint box's handles changes its margins. */
  onOutpaint(margins: Margins): void;
  /** Results row shown. */
  resultsVisible: boolean;
  onStroke(stroke: Stroke): void;
  onChooseResult(result: ResultRecord): void;
  commandsRef: Ref<CanvasCommands>;
}

/** The mask raster drawn as a tinted, see-through canvas. */
function useMaskCanvas(strokes: Stroke[], width: number, height: number): { canvas: HTMLCanvasElement; masked: number; version: number } {
  const raster = useMemo(() => new MaskRaster(width, height), [width, height]);
  const canvas = useMemo(() => {
    const c = document.createElement('canvas');
    c.width = width;
    c.height = height;
    return c;
  }, [width, height]);
  return useMemo(() => {
    const mask = raster.update(strokes);
    const ctx = canvas.getContext('2d');
    if (ctx) {
      const pixels = ctx.createImageData(width, height);
      for (let i = 0; i < mask.length; i++) {
        pixels.data[i * 4] = 255;
        pixels.data[i * 4 + 1] = 56;
        pixels.data[i * 4 + 2] = 96;
        pixels.data[i * 4 + 3] = mask[i]!;
      }
      ctx.putImageData(pixels, 0, 0);
    }
    return { canvas, masked: maskedCount(mask), version: Math.random() };
  }, [raster, canvas, strokes, width, height]);
}

/** Re-renders only when its props change (job events re-render the studio many times a second). */
export const CanvasView = memo(function CanvasView(props: CanvasViewProps) {
  const { current, strokes, results, tool, brushSize, hardness, emptySize } = props;
  const container = useRef<HTMLDivElement>(null);
  const [size, setSize] = useState({ width: 800, height: 600 });
  const [view, setView] = useState<View>({ scale: 1, x: 0, y: 0 });
  const viewRef = useRef(view);
  viewRef.current = view;
  const buffer = useMemo(() => new StrokeBuffer(), []);
  const liveLine = useRef<Konva.Line>(null);
  const cursor = useRef<Konva.Circle>(null);
  const spaceHeld = useRef(false);
  const panning = useRef<{ x: number; y: number; vx: number; vy: number } | null>(null);

  const { image, error: imageError } = useImage(current?.url);
  const { image: before } = useImage(props.compare !== null ? current?.parentUrl : null);
  const { image: previewImage } = useImage(props.preview);
  const width = current?.width ?? emptySize.width;
  const height = current?.height ?? emptySize.height;
  const mask = useMaskCanvas(strokes, width, height);

  useEffect(() => {
    const el = container.current;
    if (!el) return;
    const observer = new ResizeObserver(() => setSize({ width: el.clientWidth, height: el.clientHeight }));
    observer.observe(el);
    setSize({ width: el.clientWidth, height: el.clientHeight });
    return () => observer.disconnect();
  }, []);

  const hasResults = results.length > 0;
  const contentBox = useMemo(() => {
    const m = props.outpaint ?? { left: 0, top: 0, right: 0, bottom: 0 };
    // Room for the results row under the image, so a fitted view shows them too.
    const below = hasResults ? height * 0.42 : 0;
    return { x: -m.left, y: -m.top, width: width + m.left + m.right, height: height + m.top + Math.max(m.bottom, below) };
  }, [props.outpaint, width, height, hasResults]);
  const fit = useCallback(() => setView(fitView(size, contentBox)), [size, contentBox]);
  // A new image (or a new stage size) is shown whole; zoom and pan otherwise stay as the person left them.
  const fittedFor = useRef('');
  useEffect(() => {
    const key = `${width}x${height}@${size.width}x${size.height}:${hasResults}:${props.outpaint ? 'o' : ''}`;
    if (fittedFor.current !== key) {
      fittedFor.current = key;
      fit();
    }
  }, [width, height, size, fit, hasResults, props.outpaint]);

  useImperativeHandle(props.commandsRef, () => ({
    zoomBy: (factor) => setView((v) => zoomAt(v, factor, { x: size.width / 2, y: size.height / 2 })),
    fit,
  }), [size, fit]);

  useEffect(() => {
    const down = (e: KeyboardEvent) => {
      if (e.code === 'Space' && !(e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement || e.target instanceof HTMLSelectElement)) {
        spaceHeld.current = true;
        if (container.current) container.current.style.cursor = 'grab';
        e.preventDefault();
      }
    };
    const up = (e: KeyboardEvent) => {
      if (e.code === 'Space') {
        spaceHeld.current = false;
        if (container.current) container.current.style.cursor = '';
      }
    };
    window.addEventListener('keydown', down);
    window.addEventListener('keyup', up);
    return () => {
      window.removeEventListener('keydown', down);
      window.removeEventListener('keyup', up);
    };
  }, []);

  const pointer = (stage: Konva.Stage | null) => stage?.getPointerPosition() ?? null;

  const drawLive = () => {
    const line = liveLine.current;
    if (!line) return;
    line.points(buffer.points);
    line.getLayer()?.batchDraw();
  };

  const finishStroke = useCallback(() => {
    const stroke = buffer.end();
    drawLive();
    if (stroke) props.onStroke(stroke);
  }, [buffer, props.onStroke]);

  useEffect(() => {
    // A drag that leaves the canvas still ends when the button is let go.
    const up = () => {
      panning.current = null;
      if (buffer.active) finishStroke();
    };
    window.addEventListener('mouseup', up);
    return () => window.removeEventListener('mouseup', up);
  }, [buffer, finishStroke]);

  function onMouseDown(e: Konva.KonvaEventObject<MouseEvent>) {
    const p = pointer(e.target.getStage());
    if (!p) return;
    if (e.evt.button === 1 || spaceHeld.current) {
      e.evt.preventDefault();
      panning.current = { x: p.x, y: p.y, vx: viewRef.current.x, vy: viewRef.current.y };
      return;
    }
    if (e.evt.button !== 0 || !current) return;
    // Handles and result tiles take their own clicks; a stroke starts only on or near the image.
    if (e.target.name() === 'outpaint-handle' || e.target.findAncestor('.result-tile')) return;
    const at = screenToImage(viewRef.current, p);
    const r = brushSize / 2;
    if (at.x < -r || at.y < -r || at.x > width + r || at.y > height + r) return;
    buffer.begin(tool, at.x, at.y, brushSize, hardness);
    drawLive();
  }

  function onMouseMove(e: Konva.KonvaEventObject<MouseEvent>) {
    const p = pointer(e.target.getStage());
    if (!p) return;
    const pan = panning.current;
    if (pan) {
      setView((v) => ({ ...v, x: pan.vx + p.x - pan.x, y: pan.vy + p.y - pan.y }));
      return;
    }
    const at = screenToImage(viewRef.current, p);
    const c = cursor.current;
    if (c) {
      c.position(at);
      c.visible(true);
      c.getLayer()?.batchDraw();
    }
    if (buffer.active && buffer.extend(at.x, at.y)) drawLive();
  }

  function onWheel(e: Konva.KonvaEventObject<WheelEvent>) {
    e.evt.preventDefault();
    const p = pointer(e.target.getStage());
    if (!p) return;
    const factor = Math.pow(1.0015, -e.evt.deltaY);
    setView((v) => zoomAt(v, factor, p));
  }

  // Results sit in a row under the current image, a third of its height, oldest first.
  const placed = useMemo(() => {
    const gap = Math.max(2, height * 0.04);
    const tileHeight = height / 3;
    let x = 0;
    return results.map((r) => {
      const tileWidth = (r.image.width * tileHeight) / Math.max(1, r.image.height);
      const item = { record: r, x, y: height + gap * 2, width: tileWidth, height: tileHeight };
      x += tileWidth + gap;
      return item;
    });
  }, [results, width, height]);
  const px = 1 / view.scale; // one screen pixel in image units
  const compareX = props.compare === null ? null : props.compare * width;

  return (
    <div
      ref={container}
      className="canvas-host"
      data-testid="canvas"
      data-current-id={current?.generationId ?? ''}
      data-current-url={current?.url.startsWith('data:') ? 'data:' : (current?.url ?? '')}
      data-strokes={strokes.length}
      data-masked={mask.masked}
      data-scale={view.scale}
      data-view-x={view.x}
      data-view-y={view.y}
      data-width={width}
      data-height={height}
      onContextMenu={(e) => e.preventDefault()}
    >
      {imageError && (
        <p className="canvas-error error" role="alert">
          {imageError}: it may have been deleted from history or its file removed. Open another image from the history or drop one here.
        </p>
      )}
      <Stage
        width={size.width}
        height={size.height}
        scaleX={view.scale}
        scaleY={view.scale}
        x={view.x}
        y={view.y}
        onMouseDown={onMouseDown}
        onMouseMove={onMouseMove}
        onWheel={onWheel}
        onMouseLeave={() => {
          // The brush outline follows the pointer only while it is over the canvas.
          cursor.current?.visible(false);
          cursor.current?.getLayer()?.batchDraw();
        }}
      >
        {/* Crisp pixels when zoomed in (exact colours), smooth when shrunk. */}
        <Layer imageSmoothingEnabled={view.scale < 1} listening={false} name="image">
          <Rect x={0} y={0} width={width} height={height} fill={current ? '#0c0d10' : 'rgba(58, 64, 82, 0.25)'} stroke="#7b8296" strokeWidth={px} dash={current ? undefined : [6 * px, 4 * px]} />
          {image && <KonvaImage image={image} x={0} y={0} width={width} height={height} />}
          {before && compareX !== null && (
            <Group clipX={0} clipY={0} clipWidth={compareX} clipHeight={height}>
              <KonvaImage image={before} x={0} y={0} width={width} height={height} />
            </Group>
          )}
          {compareX !== null && <Line points={[compareX, 0, compareX, height]} stroke="#ffffff" strokeWidth={2 * px} />}
          {previewImage && <KonvaImage image={previewImage} x={0} y={0} width={width} height={height} opacity={0.95} />}
        </Layer>
        <Layer name="results" imageSmoothingEnabled={view.scale < 1} visible={props.resultsVisible}>
          {placed.map((p) => (
            <Group key={p.record.id} name="result-tile" x={p.x} y={p.y} onClick={() => props.onChooseResult(p.record)}>
              <ResultTile record={p.record} width={p.width} height={p.height} px={px} isCurrent={p.record.image.generationId === current?.generationId} />
            </Group>
          ))}
        </Layer>
        <Layer name="mask" listening={false} visible={props.maskVisible} opacity={props.maskOpacity} imageSmoothingEnabled={false}>
          <KonvaImage image={mask.canvas} key={mask.version} x={0} y={0} width={width} height={height} />
          {/* Its points come from the StrokeBuffer, set on the node directly (no prop: a re-render
              while drawing must not reset the stroke). */}
          <Line
            ref={liveLine}
            stroke="rgb(255,56,96)"
            strokeWidth={brushSize}
            lineCap="round"
            lineJoin="round"
            globalCompositeOperation={tool === 'eraser' ? 'destination-out' : 'source-over'}
          />
        </Layer>
        <Layer name="overlay" listening={false}>
          {props.outpaint && (
            <Rect
              x={-props.outpaint.left}
              y={-props.outpaint.top}
              width={width + props.outpaint.left + props.outpaint.right}
              height={height + props.outpaint.top + props.outpaint.bottom}
              stroke="#f2c35c"
              strokeWidth={2 * px}
              dash={[8 * px, 6 * px]}
            />
          )}
          {!current && !previewImage && (
            <Text x={0} y={height / 2 - 6 * px} width={width} align="center" text="the next image appears here" fontSize={13 * px} fill="#7b8296" />
          )}
          <Circle ref={cursor} radius={brushSize / 2} stroke="#ffffff" strokeWidth={px} opacity={current ? 0.8 : 0} visible={false} />
        </Layer>
        {props.outpaint && <OutpaintHandles margins={props.outpaint} width={width} height={height} px={px} onChange={props.onOutpaint} />}
      </Stage>
    </div>
  );
});

/** Four handles on the outpaint box; each moves one margin along its own axis. */
function OutpaintHandles({ margins, width, height, px, onChange }: { margins: Margins; width: number; height: number; px: number; onChange(m: Margins): void }) {
  const size = 12 * px;
  const handles = [
    { side: 'left' as const, x: -margins.left, y: height / 2, axis: 'x' as const },
    { side: 'right' as const, x: width + margins.right, y: height / 2, axis: 'x' as const },
    { side: 'top' as const, x: width / 2, y: -margins.top, axis: 'y' as const },
    { side: 'bottom' as const, x: width / 2, y: height + margins.bottom, axis: 'y' as const },
  ];
  const marginFor = (side: keyof Margins, x: number, y: number) => {
    const value = side === 'left' ? -x : side === 'right' ? x - width : side === 'top' ? -y : y - height;
    return Math.max(0, Math.min(4096, Math.round(value)));
  };
  return (
    <Layer name="outpaint-handles">
      {handles.map((h) => (
        <Rect
          key={h.side}
          name="outpaint-handle"
          x={h.x}
          y={h.y}
          offsetX={size / 2}
          offsetY={size / 2}
          width={size}
          height={size}
          fill="#f2c35c"
          stroke="#15171c"
          strokeWidth={px}
          draggable
          onDragMove={(e) => {
            const node = e.target;
            // Each handle moves along one axis only.
            if (h.axis === 'x') node.y(h.y);
            else node.x(h.x);
            onChange({ ...margins, [h.side]: marginFor(h.side, node.x(), node.y()) });
          }}
          onMouseEnter={(e) => {
            const stage = e.target.getStage();
            if (stage) stage.container().style.cursor = h.axis === 'x' ? 'ew-resize' : 'ns-resize';
          }}
          onMouseLeave={(e) => {
            const stage = e.target.getStage();
            if (stage) stage.container().style.cursor = '';
          }}
        />
      ))}
    </Layer>
  );
}

function ResultTile({ record, width, height, px, isCurrent }: { record: ResultRecord; width: number; height: number; px: number; isCurrent: boolean }) {
  const { image } = useImage(record.image.url);
  return (
    <>
      {image && <KonvaImage image={image} width={width} height={height}/>}
      <Rect width={width} height={height} stroke={isCurrent ? '#7aa2ff' : '#3a4052'} strokeWidth={(isCurrent ? 3 : 1) * px} />
    </>
  );
}
