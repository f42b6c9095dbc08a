// A bundle whose tokenizer spells capitals letter by letter (a Split pre-tokenizer before ByteLevel;
// modeling/text_tokenizer.py) must tokenize exactly as the Python side that trained the model did.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PromptEncoder } from '../../../src-main/engine/tokenizer/index';
import { parseManifest } from '../../../src-main/engine/bundle/manifest';

const dir = new URL('../../fixtures/tokenizer-spelled/', import.meta.url);
const cases = JSON.parse(readFileSync(new URL('cases.json', dir), 'utf8')) as { text: string; ids: number[] }[];
const manifest = parseManifest(readFileSync(new URL('../../fixtures/bundle-fixture/bundle.json', import.meta.url), 'utf8'));

test('spelled capitals: the TypeScript tokenizer gives the ids Python wrote', async () => {
  const enc = await PromptEncoder.load(fileURLToPath(new URL('tokenizer.json', dir)), manifest);
  assert.ok(cases.length >= 5);
  for (const c of cases) assert.deepEqual(enc.encodeText(c.text), c.ids, c.text);
  // the sign word is one id per letter, and each decodes to its letter
  const open = enc.encodeText('"OPEN"').slice(1, -1);
  assert.deepEqual(open.map((id) => enc.decode([id])), ['O', 'P', 'E', 'N']);
});
