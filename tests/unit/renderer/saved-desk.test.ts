// The saved desk: a round trip gives back the same records; missing, damaged or foreign text gives
// the empty desk instead of a crash.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { currentOf, resultsOf, strokesOf } from '../../../src-renderer/canvas/document';
import type { HistoryItem } from '../../../src-shared/contract';
import { DEFAULT_DRAFT, patchFromHistoryItem } from '../../../src-renderer/studio/draft';
import { EMPTY_DESK, parseDesk, serialiseDesk } from '../../../src-renderer/studio/saved-desk';

const image = { generationId: 'g1', url: '/files/images/ab/c.png', width: 32, height: 32, label: 'a fox', parentId: null, parentUrl: null };

test('a saved desk comes back as the same records', () => {
  const desk = {
    draft: { ...DEFAULT_DRAFT, prompt: 'a fox', mode: 'inpaint' as const, seed: 7, seedLocked: true },
    current: image,
    strokes: [{ type: 'brush' as const, points: [1, 2, 3, 4], size: 5, hardness: 0.5 }, { type: 'rect' as const, x: 0, y: 0, width: 2, height: 2, mode: 'erase' as const }],
    results: [image, { ...image, generationId: 'g2' }],
  };
  const back = parseDesk(serialiseDesk(desk));
  assert.equal(back.fromStorage, true);
  assert.deepEqual(back.draft, desk.draft);
  const records = Object.fromEntries(back.records.map((r) => [r.id, r]));
  assert.deepEqual(currentOf(records), image);
  assert.deepEqual(strokesOf(records), desk.strokes, 'strokes in their order');
  assert.deepEqual(resultsOf(records).map((r) => r.image.generationId), ['g1', 'g2']);
});

test('missing, damaged or foreign text gives the empty desk', () => {
  for (const text of [null, '', '{', '[]', '{"draft":{}}', JSON.stringify({ draft: DEFAULT_DRAFT, current: null, strokes: [{ type: 'lasso' }], results: [] }),
    JSON.stringify({ draft: { ...DEFAULT_DRAFT, steps: 9999 }, current: null, strokes: [], results: [] })]) {
    assert.deepEqual(parseDesk(text), EMPTY_DESK, String(text));
  }
});

test('a desk saved before "keep untouched areas" existed comes back with it on; an unticked one stays off', () => {
  const { keepUnchanged: _, ...older } = DEFAULT_DRAFT;
  const back = parseDesk(JSON.stringify({ draft: { ...older, mode: 'edit' }, current: null, strokes: [], results: [] }));
  assert.equal(back.fromStorage, true);
  assert.equal(back.draft.keepUnchanged, true);
  const off = parseDesk(serialiseDesk({ draft: { ...DEFAULT_DRAFT, keepUnchanged: false }, current: null, strokes: [], results: [] }));
  assert.equal(off.draft.keepUnchanged, false);
});

test('reuse parameters takes an edit\'s "keep untouched areas"; items that did not record it leave the box as it is', () => {
  const item = { prompt: 'make it night', negativePrompt: '', seed: 1, params: { steps: 4, keepUnchanged: false } } as unknown as HistoryItem;
  assert.equal(patchFromHistoryItem(item).keepUnchanged, false);
  assert.equal(patchFromHistoryItem({ ...item, params: { steps: 4 } }).keepUnchanged, undefined);
  assert.equal(patchFromHistoryItem({ ...item, params: { keepUnchanged: 'no' } }).keepUnchanged, undefined);
});
