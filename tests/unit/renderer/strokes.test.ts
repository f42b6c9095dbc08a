// Stroke schema: the four kinds parse, malformed strokes are refused with a reason, base64 round trips.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Stroke, base64ToBytes, bytesToBase64, imageStroke } from '../../../src-renderer/canvas/strokes';

test('brush, eraser, rect and image strokes parse as plain data', () => {
  const strokes = [
    { type: 'brush', points: [1, 2, 3, 4], size: 8, hardness: 0.5 },
    { type: 'eraser', points: [0, 0], size: 1, hardness: 1 },
    { type: 'rect', x: 1, y: 2, width: 3, height: 4, mode: 'add' },
    imageStroke(Uint8Array.from([0, 255, 128, 7]), 2, 2),
  ];
  for (const s of strokes) assert.deepEqual(Stroke.parse(s), s);
  // Plain data: survives JSON unchanged.
  assert.deepEqual(JSON.parse(JSON.stringify(strokes)).map((s: unknown) => Stroke.parse(s)), strokes);
});

test('malformed strokes are refused', () => {
  const bad = [
    { type: 'brush', points: [1, 2, 3], size: 8, hardness: 0.5 }, // odd number of coordinates
    { type: 'brush', points: [], size: 8, hardness: 0.5 },
    { type: 'brush', points: [1, 2], size: 0, hardness: 0.5 },
    { type: 'eraser', points: [1, 2], size: 4, hardness: 1.5 },
    { type: 'brush', points: [1, Number.NaN], size: 4, hardness: 1 },
    { type: 'rect', x: 0, y: 0, width: -1, height: 2, mode: 'add' },
    { type: 'rect', x: 0, y: 0, width: 1, height: 2, mode: 'paint' },
    { type: 'image', x: 0, y: 0, width: 1, height: 1, alpha: 'not base64!' },
    { type: 'lasso', points: [1, 2] },
    { type: 'brush', points: [1, 2], size: 4, hardness: 1, colour: 'red' }, // strict: unknown keys
  ];
  for (const s of bad) assert.equal(Stroke.safeParse(s).success, false, JSON.stringify(s));
});

test('base64 round trips any bytes and matches Node', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
    const text = bytesToBase64(bytes);
    assert.equal(text, Buffer.from(bytes).toString('base64'));
    assert.deepEqual(base64ToBytes(text), bytes);
  }));
});

test('an image stroke must hold width × height bytes', () => {
  assert.throws(() => imageStroke(new Uint8Array(3), 2, 2), /expected 2×2/);
});

test('the stroke buffer grows outside the document and hands over one stroke on pointer-up', async () => {
  const { StrokeBuffer } = await import('../../../src-renderer/canvas/stroke-buffer');
  const buffer = new StrokeBuffer();
  assert.equal(buffer.extend(1, 1), false, 'nothing to extend before a stroke begins');
  buffer.begin('eraser', 1.234567, 2, 10, 0.5);
  assert.equal(buffer.active, true);
  assert.equal(buffer.extend(1.25, 2.05), false, 'a move under a tenth of a pixel adds no point');
  assert.equal(buffer.extend(5, 6), true);
  const stroke = buffer.end();
  assert.deepEqual(stroke, { type: 'eraser', points: [1.23, 2, 5, 6], size: 10, hardness: 0.5 });
  assert.equal(Stroke.safeParse(stroke).success, true, 'what the buffer hands over is a valid stroke');
  assert.equal(buffer.active, false);
  assert.equal(buffer.end(), null, 'ended once');
});
