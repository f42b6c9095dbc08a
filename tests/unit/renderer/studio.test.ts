// Pure parts of the studio: reuse-parameters from history items and dropped PNGs, the lineage tree,
// the shortcut table, zoom about a point.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { HistoryItem } from '../../../src-shared/contract';
import { fitView, screenToImage, zoomAt } from '../../../src-renderer/canvas/view';
import { describePatch, lorasFromImage, patchFromHistoryItem, patchFromImageParameters } from '../../../src-renderer/studio/draft';
import type { AvailableLora } from '../../../src-shared/contract';
import { buildLineageTree, countNodes } from '../../../src-renderer/studio/lineage';
import { SHORTCUTS, shortcutFor } from '../../../src-renderer/studio/shortcuts';

const item = (over: Partial<HistoryItem>): HistoryItem => ({
  id: '00000000-0000-4000-8000-000000000000', createdAt: 1, updatedAt: 1, kind: 't2i', prompt: 'p', negativePrompt: '', params: {},
  seed: 1, modelName: 'm', parentId: null, projectId: null, status: 'done', error: null, favourite: false, tags: [], images: [], ...over,
});

test('reuse parameters from a history item', () => {
  const patch = patchFromHistoryItem(item({ prompt: 'a fox', seed: 42, params: { steps: 12, cfg: 3.5, strength: 0.6 } }));
  assert.deepEqual(patch, { prompt: 'a fox', negativePrompt: '', seedLocked: true, seed: 42, steps: 12, cfg: 3.5, strength: 0.6, loras: [] });
  // Out-of-range values are clamped to what the contract accepts.
  assert.deepEqual(patchFromHistoryItem(item({ params: { steps: 900, cfg: -2 } })).steps, 200);
});

test('parameters of a dropped PNG: Atelier JSON first, else A1111 text', () => {
  const atelier = patchFromImageParameters({ parameters: { prompt: 'ignored', negativePrompt: '', params: {} }, atelier: { app: 'atelier', prompt: 'a castle', seed: 9, steps: 7, cfg_scale: 2 }, keys: [] });
  // Atelier's JSON is complete: no `loras` means it was made without any, so the panel's are cleared
  assert.deepEqual(atelier, { prompt: 'a castle', negativePrompt: '', seedLocked: true, seed: 9, steps: 7, cfg: 2, loras: [] });
  const a1111 = patchFromImageParameters({
    parameters: { prompt: 'a ship', negativePrompt: 'blurry', params: { Steps: '30', 'CFG scale': '6.5', Seed: '-1', Sampler: 'Euler a' } },
    atelier: null,
    keys: ['parameters'],
  });
  assert.deepEqual(a1111, { prompt: 'a ship', negativePrompt: 'blurry', steps: 30, cfg: 6.5 }, 'seed -1 (random) is not locked');
  assert.equal(patchFromImageParameters({ parameters: null, atelier: null, keys: ['prompt'] }), null, 'a ComfyUI-only PNG has nothing to reuse');
});

test('LoRAs a dropped PNG records come back by name when installed; the others are named as missing', () => {
  const lora = (key: string, name: string): AvailableLora => ({ key, name, source: key.startsWith('run:') ? 'trained' : 'file', loraId: null, path: null, bytes: 1, modifiedAt: 1 });
  const available = [lora('run:a1', 'sloth style'), lora('file:ink/pen.safetensors', 'ink/pen')];
  const atelierPng = { parameters: null, keys: ['atelier'], atelier: { prompt: 'a sloth', seed: 1, loras: [{ name: 'sloth style', weight: 0.8, rank: 4 }, { name: 'gone', weight: 1, rank: 4 }, { name: 'ink/pen', weight: -0.3333 }] } };
  assert.deepEqual(lorasFromImage(atelierPng, available), {
    recorded: true, loras: [{ key: 'run:a1', weight: 0.8 }, { key: 'file:ink/pen.safetensors', weight: -0.35 }], missing: ['gone'],
  });
  const patch = patchFromImageParameters(atelierPng, available)!;
  assert.deepEqual(patch.loras, [{ key: 'run:a1', weight: 0.8 }, { key: 'file:ink/pen.safetensors', weight: -0.35 }]);
  assert.match(describePatch(patch), /2 LoRAs/);
  // A1111 text as Atelier writes it (`LoRAs: name: w, name: w`)
  const a1111 = { atelier: null, keys: ['parameters'], parameters: { prompt: 'x', negativePrompt: '', params: { Steps: '4', LoRAs: 'ink/pen: 1.5, sloth style: 0.25' } } };
  assert.deepEqual(patchFromImageParameters(a1111, available)!.loras, [{ key: 'file:ink/pen.safetensors', weight: 1.5 }, { key: 'run:a1', weight: 0.25 }]);
  // An A1111 PNG that says nothing about LoRAs leaves the panel's alone; nothing installed → none, all missing
  assert.equal('loras' in patchFromImageParameters({ ...a1111, parameters: { ...a1111.parameters, params: { Steps: '4' } } })!, false);
  assert.deepEqual(lorasFromImage(atelierPng, []), { recorded: true, loras: [], missing: ['sloth style', 'gone', 'ink/pen'] });
});

test('the lineage tree puts every descendant under its parent, oldest first', () => {
  const n = (id: string, parentId: string | null, createdAt: number) => ({ id, parentId, createdAt });
  const root = n('r', null, 0);
  const tree = buildLineageTree(root, [n('c2', 'r', 5), n('g1', 'c1', 9), n('c1', 'r', 3), n('x', 'elsewhere', 1)]);
  assert.deepEqual(tree.children.map((c) => c.item.id), ['c1', 'c2']);
  assert.deepEqual(tree.children[0]!.children.map((c) => c.item.id), ['g1']);
  assert.equal(countNodes(tree), 4);
  // A damaged chain with a cycle does not loop.
  assert.equal(countNodes(buildLineageTree(n('a', 'b', 0), [n('b', 'a', 1), n('a', 'b', 0)])), 2);
});

test('shortcuts: plain keys act only outside text fields; Ctrl+Z stays the field\u2019s own undo', () => {
  const k = (key: string, over: Partial<Parameters<typeof shortcutFor>[0]> = {}) => shortcutFor({ key, ctrl: false, shift: false, alt: false, typing: false, ...over });
  assert.equal(k('b'), 'brush');
  assert.equal(k('B'), 'brush');
  assert.equal(k('b', { typing: true }), null);
  assert.equal(k('z', { ctrl: true }), 'undo');
  assert.equal(k('Z', { ctrl: true, shift: true }), 'redo');
  assert.equal(k('z', { ctrl: true, typing: true }), null);
  assert.equal(k('Enter', { ctrl: true, typing: true }), 'generate');
  assert.equal(k('[', {}), 'smaller');
  assert.equal(k('?'), 'help');
  // Every action in the table is reachable and documented once.
  assert.equal(new Set(SHORTCUTS.map((s) => s.action)).size, SHORTCUTS.length);
});

test('zooming keeps the image point under the pointer still; fit centres the content', () => {
  fc.assert(fc.property(fc.double({ min: 0.1, max: 10, noNaN: true }), fc.double({ min: 0.5, max: 2, noNaN: true }), fc.integer({ min: 0, max: 800 }), fc.integer({ min: 0, max: 600 }), (scale, factor, px, py) => {
    const view = { scale, x: 13, y: -7 };
    const before = screenToImage(view, { x: px, y: py });
    const after = screenToImage(zoomAt(view, factor, { x: px, y: py }), { x: px, y: py });
    assert.ok(Math.abs(before.x - after.x) < 1e-6 && Math.abs(before.y - after.y) < 1e-6);
  }));
  const fitted = fitView({ width: 800, height: 600 }, { x: 0, y: 0, width: 32, height: 32 }, 0);
  assert.equal(fitted.scale, 600 / 32);
  assert.equal(fitted.x, (800 - 600) / 2);
  assert.equal(fitted.y, 0);
});
