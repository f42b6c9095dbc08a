import { test } from 'node:test';
import assert from 'node:assert/strict';
import { euler, eulerUpdate, flowMatchSigmas, heun } from '../../../src-main/engine/scheduler/flow-match';
import { blendKnown, interpolate } from '../../../src-main/engine/diffusion/denoise';

test('sigmas run from 1 to 0, decrease, and follow the shift formula', () => {
  for (const shift of [1, 2, 3.5]) {
    const s = flowMatchSigmas(8, shift);
    assert.equal(s.length, 9);
    assert.equal(s[0], 1);
    assert.equal(s[8], 0);
    for (let i = 1; i < s.length; i++) assert.ok(s[i]! < s[i - 1]!);
    for (let i = 0; i <= 8; i++) {
      const t = 1 - i / 8;
      assert.ok(Math.abs(s[i]! - (shift * t) / (1 + (shift - 1) * t)) < 1e-15);
    }
  }
  // shift 1 is the plain linear schedule; shift > 1 spends more steps at high noise.
  assert.deepEqual([...flowMatchSigmas(4, 1)], [1, 0.75, 0.5, 0.25, 0]);
  assert.ok(flowMatchSigmas(4, 3)[2]! > 0.5);
  assert.throws(() => flowMatchSigmas(0, 1), /steps/);
  assert.throws(() => flowMatchSigmas(4, 0), /shift/);
});

test('Euler integrates a constant velocity field exactly: x_0 = x_1 − v', async () => {
  const x0 = Float32Array.from([0.5, -1, 2]);
  const v = Float32Array.from([1, 0.25, -2]);
  const sigmas = flowMatchSigmas(7, 2.5);
  let calls = 0;
  let x: Float32Array = x0;
  for (let i = 0; i < 7; i++) {
    x = await euler.step(x, sigmas, i, async () => {
      calls++;
      return v;
    });
  }
  assert.equal(calls, 7);
  x.forEach((xi, k) => assert.ok(Math.abs(xi - (x0[k]! - v[k]!)) < 1e-6));
});

test('Heun is exact for a velocity linear in σ where Euler is not', async () => {
  // dx/dσ = σ  ⇒  x(0) = x(1) − 1/2.
  const sigmas = flowMatchSigmas(5, 1);
  const field = async (x: Float32Array, s: number) => new Float32Array(x.length).fill(s);
  let xh: Float32Array = Float32Array.from([1]);
  let xe: Float32Array = Float32Array.from([1]);
  for (let i = 0; i < 5; i++) {
    xh = await heun.step(xh, sigmas, i, field);
    xe = await euler.step(xe, sigmas, i, field);
  }
  // Heun's last step falls back to Euler (σ' = 0): exact up to that step's error (it overshoots by ½·0.2²).
  const lastEulerError = 0.2 * 0.2 * 0.5;
  assert.ok(Math.abs(xh[0]! - (0.5 - lastEulerError)) < 1e-6, `heun ${xh[0]}`);
  assert.ok(Math.abs(xe[0]! - 0.5) > Math.abs(xh[0]! - 0.5), 'euler is further off');
});

test('eulerUpdate computes in float64 and rounds once to float32', () => {
  const x = Float32Array.from([1]);
  const v = Float32Array.from([Math.fround(1 / 3)]);
  const dt = -0.1;
  assert.equal(eulerUpdate(x, v, dt)[0], Math.fround(1 + dt * Math.fround(1 / 3)));
});

test('inpaint blend keeps the re-noised known latents where the mask is 0', () => {
  const x = Float32Array.from([1, 1, 1, 1, 9, 9, 9, 9]); // 2 channels × 2×2
  const known = Float32Array.from([2, 2, 2, 2, 3, 3, 3, 3]);
  const noise = Float32Array.from([0, 4, 0, 4, 0, 4, 0, 4]);
  const mask = Float32Array.from([1, 0, 0, 1]);
  const out = blendKnown(x, { mask, known, noise }, 0.25, 4);
  const renoised = interpolate(known, noise, 0.25);
  assert.deepEqual([...out], [1, renoised[1], renoised[2], 1, 9, renoised[5], renoised[6], 9]);
  assert.equal(renoised[1], 0.75 * 2 + 0.25 * 4);
});
