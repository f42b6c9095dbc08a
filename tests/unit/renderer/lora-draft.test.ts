// The prompt draft's LoRAs: what a job sends, what "reuse parameters" reads back from a history
// item, the slider's rounding, and the saved desk keeping them (older desks without LoRAs still load).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LoraChoices } from '../../../src-shared/contract';
import type { HistoryItem } from '../../../src-shared/contract';
import { DEFAULT_DRAFT, loraChoicesOf, lorasFromParams, patchFromHistoryItem, roundLoraWeight } from '../../../src-renderer/studio/draft';
import { parseDesk, serialiseDesk } from '../../../src-renderer/studio/saved-desk';

const RUN = '3f2c1a9e-5b7d-4c2e-9f1a-0b6d8e4c2a71';

test('the draft LoRAs become contract-valid choices', () => {
  const choices = loraChoicesOf([{ key: `run:${RUN}`, weight: 0.75 }, { key: 'file:styles/ink.safetensors', weight: -0.5 }, { key: 'bogus', weight: 1 }]);
  assert.deepEqual(choices, [{ loraId: RUN, weight: 0.75 }, { path: 'styles/ink.safetensors', weight: -0.5 }]);
  assert.ok(LoraChoices.safeParse(choices).success);
});

test('reuse parameters takes the item’s LoRAs, and an item without LoRAs clears them', () => {
  const item = { prompt: 'a mug', negativePrompt: '', seed: 3, params: { steps: 4, cfg: 2, loras: [{ key: 'file:a.safetensors', name: 'a', weight: 1.25 }, { key: 'file:a.safetensors', name: 'a', weight: 2 }, { nope: 1 }, 'x'] } } as unknown as HistoryItem;
  assert.deepEqual(patchFromHistoryItem(item).loras, [{ key: 'file:a.safetensors', weight: 1.25 }], 'duplicates and malformed entries are dropped');
  assert.deepEqual(patchFromHistoryItem({ ...item, params: { steps: 4 } }).loras, []);
  assert.deepEqual(lorasFromParams({ loras: [{ key: 'file:b.safetensors', weight: 9 }] }), [{ key: 'file:b.safetensors', weight: 2 }], 'clamped to the contract');
});

test('slider weights land on the 0.05 grid, within −2…2, never −0', () => {
  assert.equal(roundLoraWeight(0.15000000000000002), 0.15);
  assert.equal(roundLoraWeight(0.7749), 0.75);
  assert.equal(roundLoraWeight(5), 2);
  assert.equal(Object.is(roundLoraWeight(-0.01), -0), false);
  assert.equal(roundLoraWeight(-0.01), 0);
});

test('the saved desk keeps the LoRAs; a desk saved before LoRAs loads with none', () => {
  const draft = { ...DEFAULT_DRAFT, prompt: 'a mug', loras: [{ key: 'file:a.safetensors', weight: 0.5 }] };
  assert.deepEqual(parseDesk(serialiseDesk({ draft, current: null, strokes: [], results: [] })).draft.loras, draft.loras);
  const { loras: _dropped, ...old } = draft;
  const restored = parseDesk(JSON.stringify({ draft: old, current: null, strokes: [], results: [] }));
  assert.equal(restored.fromStorage, true);
  assert.deepEqual(restored.draft.loras, []);
});
