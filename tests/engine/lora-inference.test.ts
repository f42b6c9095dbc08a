// Generation with LoRAs through the engine's `loras` option (the optional dit_lora graph): weight 0
// is the plain model, weight 1 changes the image, changing the weight or the LoRA reuses the loaded
// sessions (no reload), several LoRAs combine, and a LoRA for another model is refused by name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadBundle } from '../../src-main/engine';
import { loraInputs } from '../../src-main/engine/diffusion/lora';
import { FIXTURE_BUNDLE, randomLora } from './helpers';

function diff(a: Uint8Array, b: Uint8Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

test('LoRA weight 0 = plain model, weight 1 changes the image, switching needs no reload', async () => {
  const engine = await loadBundle(FIXTURE_BUNDLE, { executionProvider: 'cpu', threads: 1 });
  try {
    const targets = engine.manifest.lora!.targets;
    const a = randomLora(targets, 2, 1);
    const b = randomLora(targets, 3, 2);
    const base = { prompt: 'a red fish', seed: 3, steps: 4, keepIntermediates: true };
    const plain = await engine.textToImage(base);
    const off = await engine.textToImage({ ...base, loras: [{ weights: a, weight: 0 }] });
    assert.deepEqual(off.images[0]!.image.data, plain.images[0]!.image.data);
    const on = await engine.textToImage({ ...base, loras: [{ weights: a, weight: 1 }] });
    assert.ok(diff(on.images[0]!.image.data, plain.images[0]!.image.data) > 5, 'weight 1 did not change the image');
    const roles = engine.bundle.sessions.loadedRoles;
    const half = await engine.textToImage({ ...base, loras: [{ weights: a, weight: 0.5 }] });
    const both = await engine.textToImage({ ...base, loras: [{ weights: a, weight: 1 }, { weights: b, weight: -0.7 }] });
    assert.deepEqual(engine.bundle.sessions.loadedRoles, roles, 'a new session was created when the LoRA weight changed');
    assert.ok(diff(half.images[0]!.image.data, on.images[0]!.image.data) > 0);
    assert.ok(diff(both.images[0]!.image.data, on.images[0]!.image.data) > 0);
    assert.equal(engine.liveTensors, 0);
  } finally {
    await engine.dispose();
  }
});

test('several LoRAs are one concatenated input: the weight folds into up, the ranks add', async () => {
  const engine = await loadBundle(FIXTURE_BUNDLE, { executionProvider: 'cpu', threads: 1 });
  try {
    const m = engine.manifest;
    const t0 = m.lora!.targets[0]!;
    const a = randomLora(m.lora!.targets, 2, 5);
    const b = randomLora(m.lora!.targets, 4, 6);
    const feeds = loraInputs(m, [
      { weights: a, weight: 0.5 },
      { weights: b, weight: 2 },
    ]);
    assert.deepEqual(feeds['lora_down_0']!.dims, [6, t0.in]);
    assert.deepEqual(feeds['lora_up_0']!.dims, [t0.out, 6]);
    // Row 0 of up: a's two columns × 0.5·alpha/rank (alpha = rank here), then b's four × 2.
    assert.equal(feeds['lora_up_0']!.data[0], Math.fround(a.up[0]![0]! * 0.5));
    assert.equal(feeds['lora_up_0']!.data[2], Math.fround(b.up[0]![0]! * 2));
    assert.equal(loraInputs(m, [])['lora_down_0']!.dims[0], 0);
    const wrong = { ...a, down: a.down.slice(1) };
    assert.throws(() => loraInputs(m, [{ weights: wrong, weight: 1, name: 'other.safetensors' }]), /other\.safetensors has \d+ target layers.*another model/);
  } finally {
    await engine.dispose();
  }
});
