// Mask rasterisation: brush/eraser coverage with hardness, rects, image strokes replacing, order,
// the incremental raster matching a full one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { MaskRaster, invertMask, lineCoverage, maskedCount, rasterise } from '../../../src-renderer/canvas/mask-raster';
import type { Stroke } from '../../../src-renderer/canvas/strokes';
import { imageStroke } from '../../../src-renderer/canvas/strokes';

const at = (mask: Uint8Array, width: number, x: number, y: number) => mask[y * width + x]!;

test('a hard brush dot covers the pixels whose centres lie inside its radius', () => {
  const mask = rasterise([{ type: 'brush', points: [10, 10], size: 6, hardness: 1 }], 20, 20);
  for (let y = 0; y < 20; y++) {
    for (let x = 0; x < 20; x++) {
      const d = Math.hypot(x + 0.5 - 10, y + 0.5 - 10);
      assert.equal(at(mask, 20, x, y), d < 3 ? 255 : 0, `pixel ${x},${y} at distance ${d}`);
    }
  }
});

test('a line covers its capsule and nothing beyond', () => {
  const mask = rasterise([{ type: 'brush', points: [2, 5, 17, 5], size: 4, hardness: 1 }], 20, 10);
  assert.equal(at(mask, 20, 10, 4), 255);
  assert.equal(at(mask, 20, 10, 5), 255);
  assert.equal(at(mask, 20, 10, 8), 0);
  assert.equal(at(mask, 20, 19, 5), 0);
  assert.equal(maskedCount(mask), mask.filter((v) => v === 255).length, 'hard brush: no grey pixels');
});

test('hardness feathers the edge: coverage falls from the solid core to zero at the radius', () => {
  assert.equal(lineCoverage(0, 10, 0.5), 1);
  assert.equal(lineCoverage(5, 10, 0.5), 1);
  assert.equal(lineCoverage(7.5, 10, 0.5), 0.5);
  assert.equal(lineCoverage(10, 10, 0.5), 0);
  const soft = rasterise([{ type: 'brush', points: [20, 20], size: 30, hardness: 0 }], 40, 40);
  const centre = at(soft, 40, 20, 20);
  const mid = at(soft, 40, 27, 20);
  const edge = at(soft, 40, 34, 20);
  assert.ok(centre > mid && mid > edge && edge > 0, `${centre} > ${mid} > ${edge} > 0`);
});

test('the eraser removes what the brush painted, rects add and erase, later strokes win', () => {
  const strokes: Stroke[] = [
    { type: 'rect', x: 0, y: 0, width: 10, height: 10, mode: 'add' },
    { type: 'eraser', points: [5, 5], size: 4, hardness: 1 },
    { type: 'rect', x: 0, y: 0, width: 2, height: 10, mode: 'erase' },
  ];
  const mask = rasterise(strokes, 10, 10);
  assert.equal(at(mask, 10, 5, 5), 0, 'erased centre');
  assert.equal(at(mask, 10, 9, 9), 255, 'rect corner');
  assert.equal(at(mask, 10, 1, 9), 0, 'erase rect');
  assert.equal(maskedCount(mask), 100 - 20 - 12);
});

test('an image stroke replaces the mask inside its rectangle (load from file, invert)', () => {
  const before = rasterise([{ type: 'rect', x: 0, y: 0, width: 4, height: 4, mode: 'add' }], 4, 4);
  const inverted = invertMask(before);
  assert.equal(maskedCount(inverted), 0);
  const loaded = Uint8Array.from({ length: 4 }, (_, i) => (i % 2 ? 255 : 0));
  const mask = rasterise([{ type: 'rect', x: 0, y: 0, width: 4, height: 4, mode: 'add' }, imageStroke(loaded, 2, 2, 1, 1)], 4, 4);
  assert.deepEqual([...mask], [255, 255, 255, 255, 255, 0, 255, 255, 255, 0, 255, 255, 255, 255, 255, 255]);
});

test('strokes outside the image are clipped, not an error', () => {
  const mask = rasterise([{ type: 'brush', points: [-50, -50, -40, -40], size: 4, hardness: 1 }, imageStroke(new Uint8Array(4).fill(255), 2, 2, 3, 3)], 4, 4);
  assert.deepEqual([...mask].filter((v) => v > 0).length, 1);
});

test('the incremental raster equals a full rasterisation after appends, undo and clear', () => {
  const stroke = fc.oneof(
    fc.record({ type: fc.constantFrom('brush' as const, 'eraser' as const), points: fc.array(fc.integer({ min: -5, max: 25 }), { minLength: 1, maxLength: 6 }).map((a) => [...a, ...a].slice(0, Math.max(2, a.length - (a.length % 2)))), size: fc.integer({ min: 1, max: 12 }), hardness: fc.constantFrom(0, 0.5, 1) }),
    fc.record({ type: fc.constant('rect' as const), x: fc.integer({ min: -2, max: 20 }), y: fc.integer({ min: -2, max: 20 }), width: fc.integer({ min: 0, max: 10 }), height: fc.integer({ min: 0, max: 10 }), mode: fc.constantFrom('add' as const, 'erase' as const) }),
  );
  fc.assert(fc.property(fc.array(fc.array(stroke, { maxLength: 4 }), { minLength: 1, maxLength: 5 }), fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }), (batches, truncate) => {
    const raster = new MaskRaster(20, 16);
    let strokes: Stroke[] = [];
    batches.forEach((batch, i) => {
      strokes = truncate[i] ? [...strokes.slice(0, Math.floor(strokes.length / 2)), ...batch] : [...strokes, ...batch];
      assert.deepEqual(raster.update(strokes), rasterise(strokes, 20, 16));
    });
  }), { numRuns: 60 });
});
