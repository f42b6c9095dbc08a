// Undo/redo as diffs with marks: undo stops at marks, redo re-applies, a new change cuts the redo
// branch, and any sequence of actions and undos ends where a replay of the surviving actions ends.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { DocumentHistory, applyDiff, diffFor, reverseDiff } from '../../../src-renderer/canvas/history';

interface Rec { id: string; value: number }
const rec = (id: string, value: number): Rec => ({ id, value });
const values = (h: DocumentHistory<Rec>) => Object.fromEntries(Object.values(h.records).map((r) => [r.id, r.value]));

test('a diff and its reverse cancel out', () => {
  const before = { a: rec('a', 1), b: rec('b', 2) };
  const diff = diffFor<Rec>(before, [rec('a', 5), rec('c', 3)], ['b']);
  assert.deepEqual(Object.keys(diff.added), ['c']);
  assert.deepEqual(Object.keys(diff.updated), ['a']);
  assert.deepEqual(Object.keys(diff.removed), ['b']);
  const after = applyDiff(before, diff);
  assert.deepEqual(after, { a: rec('a', 5), c: rec('c', 3) });
  assert.deepEqual(applyDiff(after, reverseDiff(diff)), before);
});

test('undo reverts every diff back to the last mark; redo re-applies them', () => {
  const h = new DocumentHistory<Rec>([rec('doc', 0)]);
  h.change('first stroke', [rec('s1', 1)]);
  h.mark('drag');
  h.apply(diffFor(h.records, [rec('s2', 2)]));
  h.apply(diffFor(h.records, [rec('s2', 3)]));
  assert.deepEqual(values(h), { doc: 0, s1: 1, s2: 3 });
  assert.equal(h.undoLabel, 'drag');
  assert.equal(h.undo(), true);
  assert.deepEqual(values(h), { doc: 0, s1: 1 }, 'both diffs of the drag reverted at once');
  assert.equal(h.undo(), true);
  assert.deepEqual(values(h), { doc: 0 });
  assert.equal(h.undo(), false, 'nothing left');
  assert.equal(h.canUndo, false);
  assert.equal(h.redo(), true);
  assert.deepEqual(values(h), { doc: 0, s1: 1 });
  assert.equal(h.redo(), true);
  assert.deepEqual(values(h), { doc: 0, s1: 1, s2: 3 });
  assert.equal(h.redo(), false);
});

test('a new change after an undo cuts the redo branch', () => {
  const h = new DocumentHistory<Rec>();
  h.change('a', [rec('a', 1)]);
  h.change('b', [rec('b', 1)]);
  h.undo();
  assert.equal(h.canRedo, true);
  h.change('c', [rec('c', 1)]);
  assert.equal(h.canRedo, false);
  assert.equal(h.redo(), false);
  assert.deepEqual(values(h), { a: 1, c: 1 });
});

test('changes that change nothing leave no history; marks without changes are skipped by undo', () => {
  const h = new DocumentHistory<Rec>([rec('a', 1)]);
  const same = h.get('a')!;
  h.change('noop', [same]);
  assert.equal(h.canUndo, false);
  h.change('set', [rec('a', 2)]);
  h.mark('empty action');
  assert.equal(h.undo(), true);
  assert.deepEqual(values(h), { a: 1 });
});

test('listeners hear every change, undo and redo', () => {
  const h = new DocumentHistory<Rec>();
  let heard = 0;
  const off = h.subscribe(() => heard++);
  h.change('a', [rec('a', 1)]);
  h.undo();
  h.redo();
  off();
  h.change('b', [rec('b', 1)]);
  assert.equal(heard, 3);
});

test('random actions, undos and redos agree with a model of states', () => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant('set' as const), id: fc.constantFrom('a', 'b', 'c'), value: fc.integer({ min: 0, max: 3 }) }),
    fc.record({ kind: fc.constant('remove' as const), id: fc.constantFrom('a', 'b', 'c') }),
    fc.constant({ kind: 'undo' as const }),
    fc.constant({ kind: 'redo' as const }),
  );
  fc.assert(fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
    const h = new DocumentHistory<Rec>();
    // The model: a list of states and a cursor into it.
    let states: Record<string, number>[] = [{}];
    let cursor = 0;
    for (const o of ops) {
      if (o.kind === 'undo') {
        assert.equal(h.undo(), cursor > 0);
        cursor = Math.max(0, cursor - 1);
      } else if (o.kind === 'redo') {
        assert.equal(h.redo(), cursor < states.length - 1);
        cursor = Math.min(states.length - 1, cursor + 1);
      } else {
        const current = { ...states[cursor]! };
        if (o.kind === 'set') current[o.id] = o.value;
        else delete current[o.id];
        if (JSON.stringify(current) !== JSON.stringify(states[cursor])) {
          if (o.kind === 'set') h.change('set', [rec(o.id, o.value)]);
          else h.change('remove', [], [o.id]);
          states = [...states.slice(0, cursor + 1), current];
          cursor++;
        }
      }
      assert.deepEqual(values(h), states[cursor]);
    }
  }), { numRuns: 200 });
});
