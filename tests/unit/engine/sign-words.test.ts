// Bare capital words are sign text for a bundle that says so (tokenizer.quote_sign_words): the engine
// quotes them as the nano's training captions did. The cases are shared with modeling/prompting.py.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { quoteSignWords } from '../../../src-main/engine/tokenizer/sign-words';
import { PromptEncoder } from '../../../src-main/engine/tokenizer/index';
import { parseManifest } from '../../../src-main/engine/bundle/manifest';

const fixture = JSON.parse(readFileSync(new URL('../../cases/sign-word-quoting.json', import.meta.url), 'utf8')) as {
  cases: { in: string; out: string }[];
};
const manifestText = readFileSync(new URL('../../fixtures/bundle-fixture/bundle.json', import.meta.url), 'utf8');
const spelledTokenizer = fileURLToPath(new URL('../../fixtures/tokenizer-spelled/tokenizer.json', import.meta.url));

test('quoteSignWords turns every shared case into its expected prompt', () => {
  assert.ok(fixture.cases.length >= 10);
  for (const c of fixture.cases) assert.equal(quoteSignWords(c.in), c.out, JSON.stringify(c.in));
  // applying it twice changes nothing more
  for (const c of fixture.cases) assert.equal(quoteSignWords(c.out), c.out, JSON.stringify(c.out));
});

test('a bundle with quote_sign_words encodes a bare sign word as the quoted one, and says so', async () => {
  const base = JSON.parse(manifestText);
  const tokenizer = { ...base.tokenizer, max_prompt_tokens: 64 }; // the fixture's small vocabulary spends many ids
  const quoting = parseManifest(JSON.stringify({ ...base, tokenizer: { ...tokenizer, quote_sign_words: true } }));
  const plain = parseManifest(JSON.stringify({ ...base, tokenizer }));
  const enc = await PromptEncoder.load(spelledTokenizer, quoting);
  const bare = enc.encodeTemplate('generate', 'a sign that says HELLO');
  const quoted = enc.encodeTemplate('generate', 'a sign that says "HELLO"');
  assert.deepEqual(bare.ids, quoted.ids);
  assert.deepEqual(quoted.warnings, []);
  assert.equal(bare.warnings.length, 1);
  assert.match(bare.warnings[0] ?? '', /read as: a sign that says "HELLO"/);
  // without the flag the prompt is tokenized as typed
  const asTyped = (await PromptEncoder.load(spelledTokenizer, plain)).encodeTemplate('generate', 'a sign that says HELLO');
  assert.notDeepEqual(asTyped.ids, quoted.ids);
  assert.deepEqual(asTyped.warnings, []);
});

test('the manifest rejects a quote_sign_words that is not a boolean', () => {
  const base = JSON.parse(manifestText);
  assert.throws(() => parseManifest(JSON.stringify({ ...base, tokenizer: { ...base.tokenizer, quote_sign_words: 'yes' } })));
});
