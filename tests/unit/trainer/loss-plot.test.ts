// The wizard's loss plot geometry and ETA text (src-renderer/lora/loss-plot.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eta, lossPlot, movingAverage } from '../../../src-renderer/lora/loss-plot';

test('loss plot: steps map across the width, the highest loss to the top, the lowest to the bottom', () => {
  const p = lossPlot([{ step: 1, loss: 2 }, { step: 2, loss: 1 }, { step: 4, loss: 1.5 }], 4, 400, 100);
  assert.equal(p.raw, '100.0,0.0 200.0,100.0 400.0,50.0');
  assert.equal(p.max, 2);
  assert.equal(p.min, 1);
  assert.equal(lossPlot([], 10, 400, 100).raw, '');
  // A flat curve does not divide by zero.
  assert.equal(lossPlot([{ step: 1, loss: 3 }, { step: 2, loss: 3 }], 2, 10, 10).raw, '5.0,10.0 10.0,10.0');
});

test('moving average and ETA', () => {
  assert.deepEqual(movingAverage([1, 3, 5, 7], 2), [1, 2, 4, 6]);
  assert.equal(eta(90, 1), '1m 30s');
  assert.equal(eta(5, 2), '3s');
  assert.equal(eta(5, null), '');
  assert.equal(eta(0, 3), '');
});
