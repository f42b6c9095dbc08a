// The TypeScript LoRA loop (onnxruntime gradient graph + AdamW in TS) against its PyTorch twin
// (modeling/lora/twin.py, autograd + torch.optim.AdamW) on the same data, seed and settings: the
// loss curves and the final weights must agree. The twin's run is committed in
// tests/unit/trainer/fixtures/twin-curve.json (regenerate: see that test's README line below).
//   .venv/bin/python -m modeling.lora.twin --bundle tests/fixtures/bundle-fixture --synthetic 4 --out tests/unit/trainer/fixtures/twin-curve.json
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Bundle } from '../../src-main/engine/bundle';
import { GradientGraph } from '../../src-main/trainer/gradients';
import { LoraLoop } from '../../src-main/trainer/loop';
import { resolveSettings } from '../../src-main/trainer/settings';
import type { TrainSettings } from '../../src-main/trainer/settings';
import { FIXTURE_BUNDLE } from './helpers';

interface TwinRun {
  settings: Partial<TrainSettings>;
  data: { x0: number[]; cond: number[]; count: number };
  losses: number[];
  final_abs_sum: number;
  final_first: number[];
}

const twin = JSON.parse(readFileSync(new URL('../unit/trainer/fixtures/twin-curve.json', import.meta.url), 'utf8')) as TwinRun;

test('a TS training run follows the PyTorch twin: same loss curve and final LoRA', async (t) => {
  const bundle = await Bundle.open(FIXTURE_BUNDLE, { executionProvider: 'cpu', threads: 1 });
  const graph = await GradientGraph.open(FIXTURE_BUNDLE, bundle.manifest, 1);
  try {
    const m = bundle.manifest;
    const per = m.latent.channels * m.latent.height * m.latent.width;
    const condSize = m.condition.length * m.connector.out_dim;
    const data = Array.from({ length: twin.data.count }, (_, i) => ({
      name: `item${i}`,
      x0: Float32Array.from(twin.data.x0.slice(i * per, (i + 1) * per)),
      cond: Float32Array.from(twin.data.cond.slice(i * condSize, (i + 1) * condSize)),
    }));
    const s = resolveSettings(twin.settings, { maxRank: graph.maxRank, graphBatch: graph.batch });
    const loop = new LoraLoop(graph, data, s);
    for (let i = 0; i < s.steps; i++) await loop.trainStep();
    assert.equal(loop.losses.length, twin.losses.length);
    // The loss really moves (a curve worth comparing) and the two curves coincide step by step.
    assert.ok(Math.abs(twin.losses.at(-1)! - twin.losses[0]!) > 0.1, 'the twin loss curve is flat');
    const worst = Math.max(...loop.losses.map((l, i) => Math.abs(l - twin.losses[i]!) / twin.losses[i]!));
    t.diagnostic(`loss ${loop.losses[0]!.toFixed(4)} → ${loop.losses.at(-1)!.toFixed(4)}; worst relative difference from PyTorch ${worst.toExponential(2)}`);
    assert.ok(worst <= 1e-4, `loss curves differ by up to ${worst.toExponential(2)} (relative)`);
    const flat = loop.params.flatMap((p) => Array.from(p));
    const absSum = flat.reduce((a, v) => a + Math.abs(v), 0);
    assert.ok(Math.abs(absSum - twin.final_abs_sum) / twin.final_abs_sum <= 1e-4, `final LoRA |w| sum ${absSum} vs ${twin.final_abs_sum}`);
    twin.final_first.forEach((v, i) => assert.ok(Math.abs(flat[i]! - v) <= 1e-5, `weight ${i}: ${flat[i]} vs ${v}`));
  } finally {
    await graph.release();
    await bundle.dispose();
  }
});
