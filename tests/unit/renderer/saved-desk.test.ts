// The saved desk: a round trip gives back the same records; missing, damaged or foreign text gives
// the empty desk instead of a crash.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { currentOf, resultsOf, strokesOf } from '../../../src-renderer/canvas/document';
import { DEFAULT_DRAFT } from '../../../src-renderer/studio/draft';
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
