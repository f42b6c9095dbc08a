// The canvas document's user actions on a real history: strokes, clear (the image stays), invert-like
// replace, results placed (undo takes them off), outpaint shifting the mask with the pixels.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CanvasImage } from '../../../src-renderer/canvas/document';
import { canvasActions, createCanvasHistory, currentOf, resultsOf, strokesOf } from '../../../src-renderer/canvas/document';
import { rasterise } from '../../../src-renderer/canvas/mask-raster';
import { imageStroke, translateStroke } from '../../../src-renderer/canvas/strokes';

const image = (id: string, width = 8, height = 8): CanvasImage => ({ generationId: id, url: `/files/images/${id}.png`, width, height, label: id, parentId: null, parentUrl: null });

test('strokes, clear-but-keep-image, undo and redo', () => {
  const h = createCanvasHistory();
  canvasActions.setCurrent(h, image('a'));
  canvasActions.addStroke(h, { type: 'brush', points: [1, 1, 6, 6], size: 2, hardness: 1 });
  canvasActions.addStroke(h, { type: 'eraser', points: [3, 3], size: 2, hardness: 1 });
  assert.equal(strokesOf(h.records).length, 2);
  assert.deepEqual(strokesOf(h.records).map((s) => s.type), ['brush', 'eraser'], 'in the order drawn');
  canvasActions.clearMask(h);
  assert.equal(strokesOf(h.records).length, 0);
  assert.equal(currentOf(h.records)?.generationId, 'a', 'the image stays');
  h.undo();
  assert.equal(strokesOf(h.records).length, 2, 'one undo brings the whole mask back');
  h.undo();
  assert.equal(strokesOf(h.records).length, 1);
  h.redo();
  h.redo();
  assert.equal(strokesOf(h.records).length, 0);
});

test('a replaced mask (invert, load) is one step; the raster follows', () => {
  const h = createCanvasHistory();
  canvasActions.setCurrent(h, image('a', 2, 2));
  canvasActions.addStroke(h, { type: 'rect', x: 0, y: 0, width: 1, height: 2, mode: 'add' });
  const inverted = rasterise(strokesOf(h.records), 2, 2).map((v) => 255 - v);
  canvasActions.replaceStrokes(h, imageStroke(inverted, 2, 2), 'invert mask');
  assert.deepEqual([...rasterise(strokesOf(h.records), 2, 2)], [0, 255, 0, 255]);
  h.undo();
  assert.deepEqual([...rasterise(strokesOf(h.records), 2, 2)], [255, 0, 255, 0]);
});

test('a result becomes current and is placed; undo takes it off; the mask stays across the retry', () => {
  const h = createCanvasHistory();
  canvasActions.setCurrent(h, image('a'));
  canvasActions.addStroke(h, { type: 'brush', points: [4, 4], size: 3, hardness: 1 });
  canvasActions.placeResult(h, image('b'));
  assert.equal(currentOf(h.records)?.generationId, 'b');
  assert.deepEqual(resultsOf(h.records).map((r) => r.image.generationId), ['b']);
  assert.equal(strokesOf(h.records).length, 1, 'mask kept');
  canvasActions.placeResult(h, image('c'));
  h.undo();
  assert.equal(currentOf(h.records)?.generationId, 'b');
  assert.deepEqual(resultsOf(h.records).map((r) => r.image.generationId), ['b']);
});

test('an outpaint that grows left/top moves the mask with the old pixels', () => {
  const h = createCanvasHistory();
  canvasActions.setCurrent(h, image('a'));
  canvasActions.addStroke(h, { type: 'rect', x: 1, y: 2, width: 2, height: 2, mode: 'add' });
  canvasActions.placeResult(h, image('wide', 12, 10), { dx: 4, dy: 2 });
  assert.deepEqual(strokesOf(h.records), [{ type: 'rect', x: 5, y: 4, width: 2, height: 2, mode: 'add' }]);
  h.undo();
  assert.deepEqual(strokesOf(h.records), [{ type: 'rect', x: 1, y: 2, width: 2, height: 2, mode: 'add' }]);
});

test('translateStroke moves every kind of stroke', () => {
  assert.deepEqual(translateStroke({ type: 'brush', points: [1, 2, 3, 4], size: 2, hardness: 1 }, 10, 20), { type: 'brush', points: [11, 22, 13, 24], size: 2, hardness: 1 });
  assert.deepEqual(translateStroke(imageStroke(new Uint8Array(1), 1, 1), -1, 3), { ...imageStroke(new Uint8Array(1), 1, 1), x: -1, y: 3 });
});
