// The history gallery's multi-selection (click, Shift+click range, select all, export order) and
// the export result's text.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { ExportOutcome, Selection } from '../../../src-renderer/studio/selection';
import {
  EMPTY_SELECTION, clickItem, exportFailures, exportOrder, exportSummary, isSelected, selectAll, selectRange, toggle, without,
} from '../../../src-renderer/studio/selection';

const shown = ['a', 'b', 'c', 'd', 'e'];

test('a click toggles one item and makes it the anchor', () => {
  let s = toggle(EMPTY_SELECTION, 'b');
  assert.deepEqual(s, { ids: ['b'], anchor: 'b' });
  s = toggle(s, 'd');
  assert.deepEqual(s, { ids: ['b', 'd'], anchor: 'd' });
  s = toggle(s, 'b');
  assert.deepEqual(s, { ids: ['d'], anchor: 'b' });
  assert.equal(isSelected(s, 'd'), true);
  assert.equal(isSelected(s, 'b'), false);
});

test('Shift+click selects the range from the anchor, in either direction', () => {
  const down = selectRange(toggle(EMPTY_SELECTION, 'b'), shown, 'd');
  assert.deepEqual(down, { ids: ['b', 'c', 'd'], anchor: 'd' });
  const up = selectRange(toggle(EMPTY_SELECTION, 'd'), shown, 'a');
  assert.deepEqual(new Set(up.ids), new Set(['a', 'b', 'c', 'd']));
  assert.equal(up.anchor, 'a');
  // The next range starts where the last click was.
  assert.deepEqual(new Set(selectRange(down, shown, 'e').ids), new Set(['b', 'c', 'd', 'e']));
});

test('Shift+click on a selected item clears the range; items outside it keep their state', () => {
  let s = selectAll(EMPTY_SELECTION, shown);
  s = toggle(s, 'b'); // anchor b, now cleared
  s = selectRange(s, shown, 'd'); // d was selected: the range b..d is cleared
  assert.deepEqual(s.ids, ['a', 'e']);
});

test('Shift+click without an anchor (or with one a filter hid) is a plain toggle', () => {
  assert.deepEqual(selectRange(EMPTY_SELECTION, shown, 'c'), { ids: ['c'], anchor: 'c' });
  const hidden: Selection = { ids: ['x'], anchor: 'x' };
  assert.deepEqual(selectRange(hidden, shown, 'c'), { ids: ['x', 'c'], anchor: 'c' });
  assert.deepEqual(clickItem(EMPTY_SELECTION, shown, 'e', true), { ids: ['e'], anchor: 'e' });
  assert.deepEqual(clickItem({ ids: ['a'], anchor: 'a' }, shown, 'c', false), { ids: ['a', 'c'], anchor: 'c' });
});

test('select all adds the shown items and keeps hidden ones; without() drops deleted ids', () => {
  const s = selectAll({ ids: ['x', 'c'], anchor: 'c' }, shown);
  assert.deepEqual(s.ids, ['x', 'c', 'a', 'b', 'd', 'e']);
  assert.equal(s.anchor, 'c');
  assert.deepEqual(without(s, ['c', 'zz']), { ids: ['x', 'a', 'b', 'd', 'e'], anchor: null });
  assert.equal(without(s, ['zz']), s, 'unchanged when nothing selected went away');
  assert.deepEqual(without(s, ['a']).anchor, 'c');
});

test('export order: the shown items in gallery order, then hidden ones as selected', () => {
  const s: Selection = { ids: ['y', 'd', 'x', 'a'], anchor: 'a' };
  assert.deepEqual(exportOrder(s, shown), ['a', 'd', 'y', 'x']);
  assert.deepEqual(exportOrder(EMPTY_SELECTION, shown), []);
});

test('properties: no duplicates, ranges are contiguous, toggling twice restores', () => {
  const id = fc.constantFrom(...shown);
  const step = fc.record({ id, shift: fc.boolean() });
  fc.assert(fc.property(fc.array(step, { maxLength: 30 }), id, (steps, last) => {
    let s = EMPTY_SELECTION;
    for (const { id: clicked, shift } of steps) s = clickItem(s, shown, clicked, shift);
    assert.equal(new Set(s.ids).size, s.ids.length);
    assert.deepEqual(toggle(toggle(s, last), last).ids.slice().sort(), s.ids.slice().sort());
    const ranged = selectRange(s, shown, last);
    if (s.anchor !== null) {
      const [lo, hi] = [shown.indexOf(s.anchor), shown.indexOf(last)].sort((x, y) => x - y) as [number, number];
      const want = !isSelected(s, last);
      for (const inRange of shown.slice(lo, hi + 1)) assert.equal(isSelected(ranged, inRange), want);
      for (const outside of [...shown.slice(0, lo), ...shown.slice(hi + 1)]) assert.equal(isSelected(ranged, outside), isSelected(s, outside));
    }
  }));
});

test('the export result as text: count, failures, manifest, zip', () => {
  const ok: ExportOutcome = { exported: 2, failed: [], manifest: '/out/manifest.json', zip: null };
  assert.equal(exportSummary(ok), '2 files written; manifest: /out/manifest.json');
  assert.equal(exportSummary({ ...ok, exported: 1, zip: '/out/a.zip' }), '1 file written; manifest: /out/manifest.json; zip: /out/a.zip');
  const bad: ExportOutcome = { ...ok, exported: 1, failed: [{ index: 2, generationId: 'g2', error: 'this history item has no image' }, { index: 3, generationId: null, error: 'boom' }] };
  assert.equal(exportSummary(bad), '1 file written, 2 failed; manifest: /out/manifest.json');
  assert.deepEqual(exportFailures(bad, (id) => (id === 'g2' ? 'a red kite' : undefined)), ['a red kite: this history item has no image', 'item 3: boom']);
  assert.deepEqual(exportFailures(bad), ['g2: this history item has no image', 'item 3: boom']);
});
