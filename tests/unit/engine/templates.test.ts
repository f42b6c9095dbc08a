// Prompt templates fill their placeholders in whatever order the bundle gives them: atelier-nano's edit
// template puts the instruction before the reference codes (modeling/config.py EDIT_TEMPLATE_PROMPT_FIRST).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PromptEncoder } from '../../../src-main/engine/tokenizer/index';
import { parseManifest } from '../../../src-main/engine/bundle/manifest';

const dir = new URL('../../fixtures/bundle-fixture/', import.meta.url);
const base = JSON.parse(readFileSync(new URL('bundle.json', dir), 'utf8'));

async function encoder(editTemplate: string) {
  const json = structuredClone(base);
  json.tokenizer.templates.edit = editTemplate;
  const m = parseManifest(JSON.stringify(json));
  return { m, enc: await PromptEncoder.load(fileURLToPath(new URL('tokenizer.json', dir)), m) };
}

test('edit template with the instruction first: reference codes end right before <|ref_end|><|img_start|>', async () => {
  const { m, enc } = await encoder('<|bos|>Edit the image: {prompt}<|ref_start|>{ref}<|ref_end|><|img_start|>');
  const n = m.vocab.image_code_offset;
  const ref = Array.from({ length: 16 }, (_, i) => (i * 7) % 64);
  const s = m.special_tokens;
  for (const prompt of ['red', 'make it pink']) {
    const { ids } = enc.encodeTemplate('edit', prompt, ref);
    assert.deepEqual(ids.slice(-2), [s.ref_end, s.img_start]);
    assert.deepEqual(ids.slice(-2 - ref.length, -2), ref.map((c) => n + c));
    assert.equal(ids[ids.length - 3 - ref.length], s.ref_start);
    const head = [s.bos, ...enc.encodeText('Edit the image: '), ...enc.encodeText(prompt)];
    assert.deepEqual(ids.slice(0, head.length), head);
    assert.equal(ids.length, head.length + ref.length + 3);
  }
  // the reference-first order of older bundles still works, and a missing reference is an error
  const old = await encoder('<|bos|><|ref_start|>{ref}<|ref_end|>Edit the image: {prompt}<|img_start|>');
  assert.deepEqual(old.enc.encodeTemplate('edit', 'red', ref).ids.slice(1, 2), [s.ref_start]);
  assert.throws(() => enc.encodeTemplate('edit', 'red'), /needs reference image codes/);
});
