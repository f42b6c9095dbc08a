// The generation modes on the fixture bundle with real sessions: bad inputs, batching and padding,
// previews, cancellation at every stage (with no tensor left alive), NaN detection, outpaint, variations.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { GraphOutputError, loadBundle, MaskError, readMetadata } from '../../src-main/engine';
import type { GenerateOptions, ProgressEvent } from '../../src-main/engine';
import { generateCodes } from '../../src-main/engine/ar/decode';
import { Rng } from '../../src-main/engine/sampler/rng';
import { TensorLedger } from '../../src-main/engine/runtime/ledger';
import { FIXTURE_BUNDLE, gradientPng, maxAbsDiff, rehash, tempBundle } from './helpers';

const engineP = loadBundle(FIXTURE_BUNDLE, { executionProvider: 'cpu', threads: 1 });
after(async () => (await engineP).dispose());
const tmp = mkdtempSync(path.join(tmpdir(), 'atelier-pipelines-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('the same seed gives the same image; metadata carries what reproduces it', async () => {
  const engine = await engineP;
  const a = await engine.textToImage({ prompt: 'a red apple', seed: 11 });
  const b = await engine.textToImage({ prompt: 'a red apple', seed: 11 });
  const c = await engine.textToImage({ prompt: 'a red apple', seed: 12 });
  assert.deepEqual(a.images[0]!.image.data, b.images[0]!.image.data);
  assert.notDeepEqual(a.images[0]!.codes, c.images[0]!.codes);
  const meta = readMetadata(a.images[0]!.png);
  assert.equal(meta.atelier!.seed, 11);
  assert.equal(meta.atelier!.model.hash, engine.bundle.hash);
  assert.equal(meta.atelier!.steps, engine.manifest.scheduler.steps);
  assert.equal(meta.parameters!.params['Seed'], '11');
  assert.equal(meta.parameters!.params['Model'], engine.manifest.name);
  // The PNG really decodes to the reported pixels.
  const { data } = await sharp(a.images[0]!.png).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual(new Uint8Array(data), a.images[0]!.image.data);
});

test('an empty prompt is refused; an over-long prompt is truncated with a warning', async () => {
  const engine = await engineP;
  await assert.rejects(engine.textToImage({ prompt: '' }), /prompt is empty/);
  await assert.rejects(engine.textToImage({ prompt: '   \n ' }), /prompt is empty/);
  const long = Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ');
  const r = await engine.textToImage({ prompt: long, seed: 1, keepIntermediates: true });
  const max = engine.manifest.tokenizer.max_prompt_tokens;
  assert.equal(r.warnings.length, 1);
  assert.match(r.warnings[0]!, new RegExp(`prompt truncated from \\d+ to ${max} tokens`));
  assert.deepEqual(r.images[0]!.metadata.warnings, r.warnings);
  const short = await engine.textToImage({ prompt: 'word0', seed: 1, keepIntermediates: true });
  // Same template around the prompt: the truncated prompt contributes exactly max tokens.
  const tokenizer = await engine.bundle.tokenizer();
  const oneWord = tokenizer.encodeText('word0').length;
  assert.equal(r.intermediates!.promptIds.length - short.intermediates!.promptIds.length, max - oneWord);
});

test('option values are validated with clear messages', async () => {
  const engine = await engineP;
  await assert.rejects(engine.textToImage({ prompt: 'x', steps: 0 }), /steps must be/);
  await assert.rejects(engine.textToImage({ prompt: 'x', seed: -3 }), /seed must be/);
  await assert.rejects(engine.textToImage({ prompt: 'x', topP: 0 }), /top-p must be/);
  await assert.rejects(engine.textToImage({ prompt: 'x', sampler: 'ddim' as never }), /sampler must be one of euler, heun/);
  assert.equal(engine.liveTensors, 0);
});

test('batch item b equals a single run with seed + b', async () => {
  const engine = await engineP;
  const batch = await engine.textToImage({ prompt: 'two cats', seed: 40, batch: 2, keepIntermediates: true });
  const single = await engine.textToImage({ prompt: 'two cats', seed: 41, keepIntermediates: true });
  assert.deepEqual(batch.images[1]!.codes, single.images[0]!.codes);
  assert.equal(batch.images[1]!.seed, 41);
  const { width: W, height: H } = engine.manifest.image;
  const per = 3 * W * H;
  assert.ok(maxAbsDiff(batch.intermediates!.pixels.subarray(per, 2 * per), single.intermediates!.pixels) < 1e-4);
});

test('left padding: a short prompt batched with a long one samples as it does alone', async () => {
  const engine = await engineP;
  const m = engine.manifest;
  const tok = await engine.bundle.tokenizer();
  const long = tok.encodeTemplate('generate', 'a very long prompt with many words in it').ids;
  const short = tok.encodeTemplate('generate', 'cat').ids;
  assert.ok(long.length > short.length);
  const sampling = { temperature: 1, topK: 0, topP: 1 };
  const ledger = new TensorLedger();
  const together = await generateCodes(m, engine.bundle.sessions, ledger, { prompts: [long, short], sampling, uniforms: [new Rng(1), new Rng(2)] });
  const alone = await generateCodes(m, engine.bundle.sessions, ledger, { prompts: [short], sampling, uniforms: [new Rng(2)] });
  assert.deepEqual(together.codes[1], alone.codes[0]);
  assert.ok(maxAbsDiff(together.hidden[1]!, alone.hidden[0]!) < 1e-4);
  assert.equal(ledger.liveCount, 0, 'the KV cache and step tensors were all disposed');
  assert.ok(ledger.createdCount > 2 * m.ar.layers * (m.image_tokens.count + 1));
});

test('AR guidance runs an unconditional twin and still yields valid codes', async () => {
  const engine = await engineP;
  const r = await engine.textToImage({ prompt: 'a cat', seed: 3, arCfgScale: 3 });
  const plain = await engine.textToImage({ prompt: 'a cat', seed: 3 });
  assert.equal(r.images[0]!.codes.length, engine.manifest.image_tokens.count);
  assert.ok(r.images[0]!.codes.every((c) => c >= 0 && c < engine.manifest.vocab.image_codebook_size));
  assert.notDeepEqual(r.images[0]!.codes, plain.images[0]!.codes);
  assert.equal(r.images[0]!.metadata.ar.cfg_scale, 3);
});

test('progress runs AR tokens then DiT steps then decode; previews are PNGs', async () => {
  const engine = await engineP;
  const events: ProgressEvent[] = [];
  const previews: { stage: string; done: number; png: Uint8Array }[] = [];
  await engine.textToImage({ prompt: 'a cat', seed: 5, steps: 3, onProgress: (e) => events.push(e), onPreview: (p) => void previews.push(p) });
  const count = engine.manifest.image_tokens.count;
  const ar = events.filter((e) => e.stage === 'ar');
  assert.deepEqual(ar.map((e) => e.done), Array.from({ length: count }, (_, i) => i + 1));
  assert.deepEqual(events.filter((e) => e.stage === 'dit').map((e) => `${e.done}/${e.total}`), ['1/3', '2/3', '3/3']);
  assert.deepEqual(events.map((e) => e.stage).filter((s, i, a) => s !== a[i - 1]), ['ar', 'dit', 'decode']);
  const gw = engine.manifest.image_tokens.grid[1];
  assert.deepEqual(previews.filter((p) => p.stage === 'ar').map((p) => p.done), Array.from({ length: count / gw - 1 }, (_, i) => (i + 1) * gw));
  assert.equal(previews.filter((p) => p.stage === 'dit').length, 3);
  for (const p of previews) assert.equal((await sharp(p.png).metadata()).format, 'png');
});

test('Heun runs two model evaluations per step except the last', async () => {
  const engine = await engineP;
  const r = await engine.textToImage({ prompt: 'a cat', seed: 5, steps: 3, sampler: 'heun' });
  assert.equal(r.images[0]!.metadata.sampler, 'Heun');
  assert.equal(readMetadata(r.images[0]!.png).parameters!.params['Sampler'], 'Heun');
});

async function cancelAt(run: (o: Partial<GenerateOptions>) => Promise<unknown>, when: (e: ProgressEvent) => boolean) {
  const engine = await engineP;
  const ac = new AbortController();
  const after: ProgressEvent[] = [];
  let aborted = false;
  await assert.rejects(
    run({
      signal: ac.signal,
      onProgress: (e) => {
        if (aborted) after.push(e);
        if (!aborted && when(e)) {
          aborted = true;
          ac.abort();
        }
      },
    }),
    (e: Error) => e.name === 'AbortError',
  );
  assert.ok(aborted, 'the cancel point was reached');
  assert.equal(engine.liveTensors, 0, 'no tensor left alive after the cancel');
  return after;
}

test('cancel during AR sampling stops within one token and leaks nothing', async () => {
  const engine = await engineP;
  const after = await cancelAt((o) => engine.textToImage({ prompt: 'a cat', seed: 1, ...o }), (e) => e.stage === 'ar' && e.done === 3);
  assert.deepEqual(after, []);
});

test('cancel during diffusion stops within one step and leaks nothing', async () => {
  const engine = await engineP;
  const after = await cancelAt((o) => engine.textToImage({ prompt: 'a cat', seed: 1, steps: 4, ...o }), (e) => e.stage === 'dit' && e.done === 2);
  assert.deepEqual(after, []);
});

test('cancel at decode, and while encoding an edit input, leaks nothing; the engine keeps working', async () => {
  const engine = await engineP;
  await cancelAt((o) => engine.textToImage({ prompt: 'a cat', seed: 1, ...o }), (e) => e.stage === 'decode');
  const image = await gradientPng(32, 32);
  await cancelAt((o) => engine.edit({ prompt: 'make it blue', image, seed: 1, ...o }), (e) => e.stage === 'encode' && e.done === 1);
  const r = await engine.textToImage({ prompt: 'a cat', seed: 1 });
  assert.equal(r.images.length, 1);
  assert.equal(engine.liveTensors, 0);
});

test('a signal aborted before the call is honoured before any graph runs', async () => {
  const engine = await engineP;
  await assert.rejects(engine.textToImage({ prompt: 'a cat', signal: AbortSignal.abort() }), (e: Error) => e.name === 'AbortError');
  assert.equal(engine.liveTensors, 0);
});

test("edit: an input of another size is resized with a notice, and the result comes back at the input's size", async () => {
  const engine = await engineP;
  const r = await engine.edit({ prompt: 'make it blue', image: await gradientPng(50, 40), seed: 2 });
  assert.equal(r.notices.length, 1);
  assert.match(r.notices[0]!, /input image resized from 50×40 to 32×32/);
  assert.deepEqual([r.images[0]!.image.width, r.images[0]!.image.height], [50, 40]);
  const v = await engine.variations({ image: await gradientPng(50, 40), seed: 2, strength: 0.5 });
  assert.deepEqual([v.images[0]!.metadata.width, v.images[0]!.metadata.height], [50, 40]);
  await assert.rejects(engine.edit({ prompt: 'x', image: new Uint8Array([1, 2, 3]) }), /cannot read the image data as an image/);
  await assert.rejects(engine.edit({ prompt: 'x', image: '/nonexistent/in.png' }), /cannot read '\/nonexistent\/in.png'/);
  await assert.rejects(engine.edit({ prompt: ' ', image: await gradientPng(32, 32) }), /edit instruction is empty/);
});

test('inpaint at another size keeps every unmasked pixel identical; bad masks are refused or noted', async () => {
  const engine = await engineP;
  const W = 48;
  const H = 40;
  const image = await gradientPng(W, H);
  const maskData = new Uint8Array(W * H);
  for (let y = 10; y < 25; y++) for (let x = 5; x < 30; x++) maskData[y * W + x] = 255;
  maskData[0] = 90; // one grey pixel (below the threshold: kept)
  maskData[W * 12 + 6] = 200; // inside the region anyway
  const maskFile = path.join(tmp, 'mask.png');
  writeFileSync(maskFile, await sharp(maskData, { raw: { width: W, height: H, channels: 1 } }).png().toBuffer());
  const r = await engine.inpaint({ prompt: 'a cat', image, mask: maskFile, seed: 4 });
  const out = r.images[0]!.image;
  assert.equal(out.width, W);
  assert.equal(out.height, H);
  const { data: original } = await sharp(image).raw().toBuffer({ resolveWithObject: true });
  let changedInside = 0;
  for (let p = 0; p < W * H; p++) {
    const masked = maskData[p]! >= 128;
    for (let c = 0; c < 3; c++) {
      if (!masked) assert.equal(out.data[p * 3 + c], original[p * 3 + c], `unmasked pixel ${p % W},${Math.floor(p / W)}`);
      else if (out.data[p * 3 + c] !== original[p * 3 + c]) changedInside++;
    }
  }
  assert.ok(changedInside > 0, 'the masked region was regenerated');
  assert.ok(r.notices.some((n) => /resized from 48×40 to 32×32/.test(n)));
  assert.match(r.images[0]!.metadata.mask!.sha256, /^[0-9a-f]{64}$/);
  assert.equal(r.images[0]!.metadata.parent!.sha256.length, 64);
  assert.ok(r.notices.some((n) => /not binary: 2 grey pixel/.test(n)));
  // Exactly the same check on the PNG bytes that would be saved.
  const { data: saved } = await sharp(r.images[0]!.png).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual(new Uint8Array(saved), out.data);

  await assert.rejects(engine.inpaint({ prompt: 'a cat', image, mask: { width: 32, height: 32, data: new Uint8Array(1024).fill(255) } }), (e: Error) => e instanceof MaskError && /mask is 32×32 but the image is 48×40/.test(e.message));
  await assert.rejects(engine.inpaint({ prompt: 'a cat', image, mask: { width: W, height: H, data: new Uint8Array(W * H) } }), /mask is empty/);
  await assert.rejects(engine.inpaint({ prompt: 'a cat', image, mask: new Uint8Array([9, 9]) }), (e: Error) => e instanceof MaskError && /as a mask image/.test(e.message));
  assert.equal(engine.liveTensors, 0);
});

test('outpaint grows the canvas and keeps the original pixels exactly', async () => {
  const engine = await engineP;
  const image = await gradientPng(32, 32);
  const r = await engine.outpaint({ prompt: 'more sky', image, left: 8, right: 8, top: 0, bottom: 4, seed: 9 });
  const out = r.images[0]!.image;
  assert.deepEqual([out.width, out.height], [48, 36]);
  const { data: original } = await sharp(image).raw().toBuffer({ resolveWithObject: true });
  for (let y = 0; y < 32; y++) {
    for (let x = 0; x < 32; x++) {
      for (let c = 0; c < 3; c++) assert.equal(out.data[(y * 48 + x + 8) * 3 + c], original[(y * 32 + x) * 3 + c]);
    }
  }
  assert.deepEqual(r.images[0]!.metadata.outpaint, { left: 8, top: 0, right: 8, bottom: 4 });
  await assert.rejects(engine.outpaint({ prompt: 'x', image }), /at least one margin/);
});

test('variations re-noise the input part-way and run the rest of the schedule', async () => {
  const engine = await engineP;
  const image = await gradientPng(32, 32);
  const steps: ProgressEvent[] = [];
  const r = await engine.variations({ image, seed: 1, steps: 10, strength: 0.3, batch: 2, onProgress: (e) => e.stage === 'dit' && steps.push(e) });
  assert.equal(steps.at(-1)!.total, 3, '30 % of 10 steps');
  assert.equal(r.images.length, 2);
  assert.notDeepEqual(r.images[0]!.image.data, r.images[1]!.image.data);
  assert.equal(r.images[0]!.metadata.mode, 'variation');
  assert.equal(r.images[0]!.metadata.prompt, 'keep the image unchanged');
  assert.equal(r.images[0]!.metadata.strength, 0.3);
  await assert.rejects(engine.variations({ image, strength: 0 }), /strength must be in \(0, 1\]/);
});

test('NaN in a graph output is a clear error naming the graph, with nothing leaked', async () => {
  const t = tempBundle();
  try {
    copyFileSync(fileURLToPath(new URL('./fixtures/nan-dit.onnx', import.meta.url)), path.join(t.dir, 'dit.onnx'));
    rehash(t.dir, 'dit.onnx');
    const engine = await loadBundle(t.dir, { executionProvider: 'cpu', threads: 1 });
    try {
      await assert.rejects(
        engine.textToImage({ prompt: 'a cat', seed: 1 }),
        (e: Error) => e instanceof GraphOutputError && e.role === 'dit' && /graph 'dit' produced NaN in its output 'velocity'/.test(e.message),
      );
      assert.equal(engine.liveTensors, 0);
    } finally {
      await engine.dispose();
    }
  } finally {
    t.cleanup();
  }
});

test('unicode and multi-line prompts survive tokenization and the PNG metadata', async () => {
  const engine = await engineP;
  const prompt = 'a 🍎 on a "blue" table,\nsecond line: déjà vu';
  const r = await engine.textToImage({ prompt, seed: 8 });
  const meta = readMetadata(r.images[0]!.png);
  assert.equal(meta.atelier!.prompt, prompt);
  assert.equal(meta.parameters!.prompt, prompt);
  assert.equal(meta.parameters!.params['Seed'], '8');
});

test('thread count changes float rounding at most, not the sampled codes', async () => {
  const engine = await engineP;
  const two = await loadBundle(FIXTURE_BUNDLE, { executionProvider: 'cpu', threads: 2 });
  try {
    const a = await engine.textToImage({ prompt: 'a cat', seed: 21, keepIntermediates: true });
    const b = await two.textToImage({ prompt: 'a cat', seed: 21, keepIntermediates: true });
    assert.deepEqual(a.intermediates!.codes, b.intermediates!.codes);
    assert.ok(maxAbsDiff(a.intermediates!.pixels, b.intermediates!.pixels) < 1e-4);
  } finally {
    await two.dispose();
  }
});

test('applied LoRAs change the DiT output and are recorded in the image metadata', async () => {
  const engine = await engineP;
  const targets = engine.manifest.lora?.targets;
  if (!targets) return; // a fixture without LoRA graphs
  const rng = new Rng(5, 0);
  const weights = {
    rank: 2,
    alpha: 2,
    down: targets.map((t) => Float32Array.from({ length: 2 * t.in }, () => rng.normal() * 0.3)),
    up: targets.map((t) => Float32Array.from({ length: t.out * 2 }, () => rng.normal() * 0.3)),
  };
  const plain = await engine.textToImage({ prompt: 'a cat', seed: 6 });
  const off = await engine.textToImage({ prompt: 'a cat', seed: 6, loras: [{ weights, weight: 0, name: 'ink' }] });
  const on = await engine.textToImage({ prompt: 'a cat', seed: 6, loras: [{ weights, weight: 1, name: 'ink' }] });
  assert.deepEqual(off.images[0]!.image.data, plain.images[0]!.image.data);
  assert.equal(off.images[0]!.metadata.loras, undefined);
  assert.notDeepEqual(on.images[0]!.image.data, plain.images[0]!.image.data);
  assert.deepEqual(readMetadata(on.images[0]!.png).atelier!.loras, [{ name: 'ink', weight: 1, rank: 2 }]);
  assert.equal(engine.liveTensors, 0);
});
