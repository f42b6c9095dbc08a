// The shipped default model (resources/models/atelier-nano) reads a bare capital word as the quoted sign
// text it was trained on: the same seed gives the same image either way, with a warning, and the image's
// metadata keeps the prompt as the user typed it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadBundle } from '../../src-main/engine';

const NANO = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../resources/models/atelier-nano');
const engineP = loadBundle(NANO, { executionProvider: 'cpu', threads: 1 });
after(async () => (await engineP).dispose());

test('the shipped nano quotes a bare sign word, capitalises a quoted one, and draws what the quoted capitals draw', async () => {
  const engine = await engineP;
  assert.equal(engine.manifest.tokenizer.quote_sign_words, true);
  const bare = 'a sign that says OPEN on a plain red background';
  const a = await engine.textToImage({ prompt: bare, seed: 3 });
  const b = await engine.textToImage({ prompt: 'a sign that says "OPEN" on a plain red background', seed: 3 });
  assert.deepEqual(a.images[0]!.image.data, b.images[0]!.image.data);
  assert.deepEqual(b.warnings, []);
  assert.deepEqual(a.warnings, ['read as: a sign that says "OPEN" on a plain red background (this model writes sign text in capitals, given in double quotes)']);
  assert.equal(a.images[0]!.metadata.prompt, bare);
  assert.deepEqual(a.images[0]!.metadata.warnings, a.warnings);
  // a quoted word in lower case is sign text too: written in capitals, the same image
  const quotedLower = await engine.textToImage({ prompt: 'a sign that says "open" on a plain red background', seed: 3 });
  assert.deepEqual(quotedLower.images[0]!.image.data, b.images[0]!.image.data);
  assert.deepEqual(quotedLower.warnings, a.warnings);
  // a bare lower-case word is not sign text to the rule: read as typed, so a different image
  const lower = await engine.textToImage({ prompt: 'a sign that says open on a plain red background', seed: 3 });
  assert.deepEqual(lower.warnings, []);
  assert.notDeepEqual(lower.images[0]!.image.data, a.images[0]!.image.data);
});
