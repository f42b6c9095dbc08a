import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compositeMasked, latentMask, MaskError, prepareMask } from '../../../src-main/engine/pipelines/mask';
import { planarToRgb, rgbToPlanar, toByte } from '../../../src-main/engine/image/pixels';
import { leftPad } from '../../../src-main/engine/ar/batch';

const gray = (width: number, height: number, f: (x: number, y: number) => number) => ({
  width,
  height,
  data: Uint8Array.from({ length: width * height }, (_, i) => f(i % width, Math.floor(i / width))),
});

test('a mask of another size is refused, naming both sizes', () => {
  assert.throws(() => prepareMask(gray(8, 8, () => 255), 16, 8), (e: Error) => e instanceof MaskError && /8×8.*16×8/.test(e.message));
});

test('an empty mask is refused', () => {
  assert.throws(() => prepareMask(gray(4, 4, () => 0), 4, 4), /empty/);
});

test('grey values are thresholded at 50 % with a notice counting them', () => {
  const m = prepareMask(gray(4, 1, (x) => [0, 127, 128, 255][x]!), 4, 1);
  assert.deepEqual([...m.pixels], [0, 0, 1, 1]);
  assert.equal(m.notices.length, 1);
  assert.match(m.notices[0]!, /2 grey pixel/);
  assert.deepEqual(prepareMask(gray(2, 1, (x) => x * 255), 2, 1).notices, []);
});

test('latent cells are 1 exactly when any covered pixel is masked (brute force, any size)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 8 }), fc.array(fc.nat(), { minLength: 1, maxLength: 6 }), (w, h, lw, lh, seeds) => {
      const data = new Uint8Array(w * h);
      for (const s of seeds) data[s % data.length] = 255;
      const m = prepareMask({ width: w, height: h, data }, w, h);
      const lat = latentMask(m, lw, lh);
      for (let cy = 0; cy < lh; cy++) {
        for (let cx = 0; cx < lw; cx++) {
          // A pixel's area [x, x+1) overlaps the cell's area [cx·w/lw, (cx+1)·w/lw) in real coordinates.
          let expected = 0;
          for (let y = 0; y < h; y++) {
            for (let x = 0; x < w; x++) {
              const overlapX = x + 1 > (cx * w) / lw && x < ((cx + 1) * w) / lw;
              const overlapY = y + 1 > (cy * h) / lh && y < ((cy + 1) * h) / lh;
              if (overlapX && overlapY && data[y * w + x]) expected = 1;
            }
          }
          assert.equal(lat[cy * lw + cx], expected, `cell ${cx},${cy}`);
        }
      }
    }),
    { numRuns: 200 },
  );
});

test('the composite copies every unmasked pixel exactly', () => {
  const w = 5;
  const h = 4;
  const original = { width: w, height: h, data: Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 37) % 256) };
  const generated = { width: w, height: h, data: Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 11 + 5) % 256) };
  const mask = prepareMask(gray(w, h, (x, y) => (x + y) % 3 === 0 ? 255 : 0), w, h);
  const out = compositeMasked(original, generated, mask);
  for (let p = 0; p < w * h; p++) {
    const src = mask.pixels[p] ? generated : original;
    assert.deepEqual([...out.data.subarray(p * 3, p * 3 + 3)], [...src.data.subarray(p * 3, p * 3 + 3)]);
  }
});

test('pixel mapping: bytes → [-1, 1] → bytes is the identity; outputs clamp and round', () => {
  const img = { width: 16, height: 16, data: Uint8Array.from({ length: 768 }, (_, i) => i % 256) };
  const planar = rgbToPlanar(img);
  assert.equal(planar[0], -1);
  assert.deepEqual(planarToRgb(planar, 16, 16).data, img.data);
  assert.equal(toByte(-3), 0);
  assert.equal(toByte(7), 255);
  assert.equal(toByte(NaN), NaN); // NaN is caught earlier by the graph-output check
  // y = 0 → 127.5 → 128 (halves round up, as the reference's floor(v + 0.5)).
  assert.equal(toByte(0), 128);
  assert.equal(toByte(-0.5), 64);
});

test('left padding: ids right-aligned, mask 0 on padding, positions count attended tokens', () => {
  const b = leftPad([[5, 6, 7], [9]], 0);
  assert.equal(b.length, 3);
  assert.deepEqual([...b.ids], [5n, 6n, 7n, 0n, 0n, 9n]);
  assert.deepEqual([...b.mask], [1n, 1n, 1n, 0n, 0n, 1n]);
  assert.deepEqual([...b.positions], [0n, 1n, 2n, 0n, 0n, 0n]);
  assert.deepEqual(b.lastPosition, [2, 0]);
});
