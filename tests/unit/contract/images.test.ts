// images.readParameters through the funnel: A1111 text from another tool, Atelier's own chunk, a
// PNG without parameters, and bytes that are no PNG (a clear VALIDATION error).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createFunnel, createHandlers } from '../../../src-main/api/index';
import type { Invoke } from '../../../src-main/api/index';
import { withTextChunks } from '../../../src-main/engine/image/png-chunks';
import type { TestCore } from './helpers';
import { openTestCore, tinyPng } from './helpers';

let core: TestCore;
let invoke: Invoke;
const sender = { trusted: true };
before(() => {
  core = openTestCore();
  invoke = createFunnel(createHandlers(core.core), { trustSender: (s) => s === sender });
});
after(() => core.close());

const dataUrl = (bytes: Uint8Array) => `data:image/png;base64,${Buffer.from(bytes).toString('base64')}`;

test('A1111 parameters written by another tool are read and split', async () => {
  const text = 'a castle at dusk\nwith fog\nNegative prompt: blurry\nSteps: 30, Sampler: Euler a, CFG scale: 6.5, Seed: 1234, Size: 512x768, Model: "sd, v1"';
  const png = withTextChunks(tinyPng, [{ keyword: 'parameters', text }]);
  const result = await invoke('images.readParameters', { png: dataUrl(png) }, sender);
  assert.ok(result.ok, JSON.stringify(result));
  assert.deepEqual(result.data, {
    parameters: {
      prompt: 'a castle at dusk\nwith fog',
      negativePrompt: 'blurry',
      params: { Steps: '30', Sampler: 'Euler a', 'CFG scale': '6.5', Seed: '1234', Size: '512x768', Model: 'sd, v1' },
    },
    atelier: null,
    keys: ['parameters'],
  });
});

test("Atelier's own JSON chunk comes back whole", async () => {
  const meta = { app: 'atelier', prompt: 'a fox', seed: 7, steps: 4, parent: null };
  const png = withTextChunks(tinyPng, [{ keyword: 'atelier', text: JSON.stringify(meta) }], { forceItxt: ['atelier'] });
  const result = await invoke('images.readParameters', { png: dataUrl(png) }, sender);
  assert.ok(result.ok);
  assert.deepEqual(result.data, { parameters: null, atelier: meta, keys: ['atelier'] });
});

test('a PNG without text chunks has no parameters; bytes that are no PNG are refused clearly', async () => {
  const plain = await invoke('images.readParameters', { png: dataUrl(tinyPng) }, sender);
  assert.ok(plain.ok);
  assert.deepEqual(plain.data, { parameters: null, atelier: null, keys: [] });
  const broken = await invoke('images.readParameters', { png: 'data:image/png;base64,AAAAAAAA' }, sender);
  assert.equal(broken.ok, false);
  if (!broken.ok) {
    assert.equal(broken.error.code, 'VALIDATION');
    assert.match(broken.error.message, /cannot read this PNG: not a PNG file/);
  }
});
