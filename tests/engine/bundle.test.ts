// Loading and verifying bundles on real files and real onnxruntime sessions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bundle, BundleError, loadBundle } from '../../src-main/engine';
import { FIXTURE_BUNDLE, rehash, tempBundle } from './helpers';

test('the fixture bundle loads; sessions are created lazily, once per role, and released on dispose', async () => {
  const bundle = await Bundle.open(FIXTURE_BUNDLE, { executionProvider: 'cpu' });
  assert.deepEqual(bundle.sessions.loadedRoles, []);
  const a = await bundle.sessions.session('connector');
  const b = await bundle.sessions.session('connector');
  assert.equal(a, b, 'the same session is reused');
  assert.deepEqual(bundle.sessions.loadedRoles, ['connector']);
  assert.equal(bundle.sessions.providerInfo.provider, 'cpu');
  assert.match(bundle.hash, /^[0-9a-f]{64}$/);
  await bundle.dispose();
  await assert.rejects(bundle.sessions.session('dit'), /unloaded/);
});

test('a corrupted file is refused, naming the file', async () => {
  const tmp = tempBundle();
  try {
    const file = path.join(tmp.dir, 'dit.onnx');
    const bytes = readFileSync(file);
    bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 0xff; // same size, different content
    writeFileSync(file, bytes);
    await assert.rejects(loadBundle(tmp.dir), (e: Error) => e instanceof BundleError && /'dit.onnx' is corrupted: sha256/.test(e.message));
  } finally {
    tmp.cleanup();
  }
});

test('a missing or truncated file is refused before any hashing', async () => {
  const tmp = tempBundle();
  try {
    appendFileSync(path.join(tmp.dir, 'vae_decoder.onnx'), 'x');
    await assert.rejects(loadBundle(tmp.dir, { verify: 'size' }), /'vae_decoder.onnx' has \d+ bytes, bundle.json says \d+/);
    copyFileSync(path.join(FIXTURE_BUNDLE, 'vae_decoder.onnx'), path.join(tmp.dir, 'vae_decoder.onnx'));
    rmSync(path.join(tmp.dir, 'tokenizer.json'));
    await assert.rejects(loadBundle(tmp.dir), /'tokenizer.json' is missing/);
  } finally {
    tmp.cleanup();
  }
});

test('a folder without bundle.json, or a newer format, is refused clearly', async () => {
  await assert.rejects(loadBundle(path.dirname(FIXTURE_BUNDLE)), /no bundle.json .* not an Atelier model bundle/);
  const tmp = tempBundle();
  try {
    const j = JSON.parse(readFileSync(path.join(tmp.dir, 'bundle.json'), 'utf8'));
    j.format_version = 2;
    writeFileSync(path.join(tmp.dir, 'bundle.json'), JSON.stringify(j));
    await assert.rejects(loadBundle(tmp.dir), /format_version 2; this engine reads version 1 only/);
  } finally {
    tmp.cleanup();
  }
});

test('a graph whose ONNX names differ from the spec is refused when its session is created', async () => {
  const tmp = tempBundle();
  try {
    // A well-formed, correctly hashed file with the wrong graph inside (the decoder where the connector goes).
    copyFileSync(path.join(tmp.dir, 'vae_decoder.onnx'), path.join(tmp.dir, 'connector.onnx'));
    rehash(tmp.dir, 'connector.onnx');
    const bundle = await Bundle.open(tmp.dir, { executionProvider: 'cpu' });
    await assert.rejects(bundle.sessions.session('connector'), /graph 'connector' \(connector.onnx\) does not match the bundle spec: inputs missing: hidden; unexpected inputs: latents/);
    await bundle.dispose();
  } finally {
    tmp.cleanup();
  }
});

test('bundle.json listing wrong graph names is refused at open', async () => {
  const tmp = tempBundle();
  try {
    const j = JSON.parse(readFileSync(path.join(tmp.dir, 'bundle.json'), 'utf8'));
    j.graphs.dit.outputs[0].name = 'noise_pred';
    writeFileSync(path.join(tmp.dir, 'bundle.json'), JSON.stringify(j));
    await assert.rejects(loadBundle(tmp.dir), /graph 'dit' \(bundle.json\).*outputs missing: velocity; unexpected outputs: noise_pred/);
  } finally {
    tmp.cleanup();
  }
});

test('a tensor type other than the spec\'s is refused (manifest and live session)', async () => {
  const tmp = tempBundle();
  try {
    const j = JSON.parse(readFileSync(path.join(tmp.dir, 'bundle.json'), 'utf8'));
    j.graphs.image_tokenizer_encoder.outputs[0].dtype = 'int32';
    writeFileSync(path.join(tmp.dir, 'bundle.json'), JSON.stringify(j));
    await assert.rejects(loadBundle(tmp.dir), /graph 'image_tokenizer_encoder' \(bundle.json\) has tensors of the wrong type: codes is int32, expected int64/);
  } finally {
    tmp.cleanup();
  }
  const live = tempBundle();
  try {
    copyFileSync(fileURLToPath(new URL('./fixtures/int32-codes-encoder.onnx', import.meta.url)), path.join(live.dir, 'image_tokenizer_encoder.onnx'));
    rehash(live.dir, 'image_tokenizer_encoder.onnx');
    const bundle = await Bundle.open(live.dir, { executionProvider: 'cpu' });
    await assert.rejects(bundle.sessions.session('image_tokenizer_encoder'), /graph 'image_tokenizer_encoder' \(image_tokenizer_encoder.onnx\) has tensors of the wrong type: codes is int32, expected int64/);
    await bundle.dispose();
  } finally {
    live.cleanup();
  }
});

test('an explicit execution provider that cannot start is an error; auto falls back to cpu with reasons', async () => {
  const explicit = await Bundle.open(FIXTURE_BUNDLE, { executionProvider: 'coreml' });
  await assert.rejects(explicit.sessions.session('connector'), /execution provider 'coreml' could not start/);
  await explicit.dispose();
  // With an accelerator requested, the AR graph is created on the CPU regardless (the default policy).
  const gpu = await Bundle.open(FIXTURE_BUNDLE, { executionProvider: 'coreml' });
  await gpu.sessions.session('ar');
  assert.equal(gpu.sessions.providerInfo.arProvider, 'cpu');
  await gpu.dispose();
  const same = await Bundle.open(FIXTURE_BUNDLE, { executionProvider: 'coreml', arProvider: 'same' });
  await assert.rejects(same.sessions.session('ar'), /could not load graph 'ar'.*'coreml' could not start/);
  await same.dispose();
  const auto = await Bundle.open(FIXTURE_BUNDLE, { executionProvider: 'auto', threads: 1 });
  await auto.sessions.session('connector');
  const info = auto.sessions.providerInfo;
  assert.ok(info.provider, 'a provider was chosen');
  if (info.provider === 'cpu' && process.platform === 'linux') assert.ok(info.fallbackReasons.length >= 1, 'says why accelerators were skipped');
  await auto.dispose();
  await assert.rejects(Bundle.open(FIXTURE_BUNDLE, { threads: 0 }).then((b) => b.sessions.session('connector')), /threads must be an integer ≥ 1/);
});

test('with LoRA graphs, dit.onnx reads the shared weights file; verification covers that file', async () => {
  // The fixture's dit.onnx holds only the graph: its weights are in dit_lora.weights (docs/bundle-spec.md).
  const listed = JSON.parse(readFileSync(path.join(FIXTURE_BUNDLE, 'bundle.json'), 'utf8')) as { files: { path: string; bytes: number }[] };
  const bytes = (p: string) => listed.files.find((f) => f.path === p)!.bytes;
  assert.ok(bytes('dit.onnx') < bytes('dit_lora.weights') / 2, 'dit.onnx carries no second copy of the weights');
  const corrupt = tempBundle();
  try {
    const file = path.join(corrupt.dir, 'dit_lora.weights');
    const data = readFileSync(file);
    data[data.length >> 1] = data[data.length >> 1]! ^ 0x01;
    writeFileSync(file, data);
    await assert.rejects(loadBundle(corrupt.dir), (e: Error) => e instanceof BundleError && /'dit_lora.weights' is corrupted: sha256/.test(e.message));
    rmSync(file);
    await assert.rejects(loadBundle(corrupt.dir, { verify: 'size' }), /'dit_lora.weights' is missing/);
  } finally {
    corrupt.cleanup();
  }
  const unlisted = tempBundle();
  try {
    const j = JSON.parse(readFileSync(path.join(unlisted.dir, 'bundle.json'), 'utf8')) as { files: { path: string }[] };
    j.files = j.files.filter((f) => f.path !== 'dit_lora.weights');
    writeFileSync(path.join(unlisted.dir, 'bundle.json'), JSON.stringify(j));
    await assert.rejects(loadBundle(unlisted.dir), /'dit_lora.weights' is used by bundle.json but not listed in files\[\]/);
  } finally {
    unlisted.cleanup();
  }
});
