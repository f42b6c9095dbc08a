// Migration 3's LoRA project tables through the store API: dataset items with captions, samples.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore, StoreError } from '../../../src-main/store';

test('dataset items: set by name (add, update, remove), edit a caption, cascade with the project', (t) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'atelier-lora-store-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const store = openStore({ dataDir });
  try {
    const p = store.projects.create({ name: 'emoji', kind: 'lora' });
    const runs = store.loraRuns;
    const first = runs.setDatasetItems(p.id, [
      { name: 'a', imagePath: '/d/a.png', caption: 'a cat' },
      { name: 'b', imagePath: '/d/b.png', caption: 'a dog', imageSha256: 'f'.repeat(64) },
    ]);
    assert.deepEqual(first.map((i) => [i.name, i.caption]), [['a', 'a cat'], ['b', 'a dog']]);
    const idA = first[0]!.id;
    const second = runs.setDatasetItems(p.id, [
      { name: 'a', imagePath: '/d/a.png', caption: 'a black cat' },
      { name: 'c', imagePath: '/d/c.png', caption: '' },
    ]);
    assert.deepEqual(second.map((i) => [i.name, i.caption]), [['a', 'a black cat'], ['c', '']]);
    assert.equal(second[0]!.id, idA, 'an updated item keeps its id');
    assert.equal(runs.setCaption(idA, 'sks, a black cat').caption, 'sks, a black cat');
    assert.throws(() => runs.setCaption('nope', 'x'), (e: unknown) => e instanceof StoreError && e.code === 'NOT_FOUND');
    assert.throws(() => runs.setDatasetItems(p.id, [{ name: 'x', imagePath: '1', caption: '' }, { name: 'x', imagePath: '2', caption: '' }]), /unique/);
    assert.equal(runs.datasetItems(p.id).length, 2, 'a refused update changes nothing');

    const run = runs.create({ projectId: p.id, baseModel: 'fixture', totalSteps: 10 });
    runs.addSample(run.id, { step: 0, index: 0, prompt: 'sks', seed: 1, path: 'lora-runs/x/samples/step-000000-0.png' });
    runs.addSample(run.id, { step: 5, index: 0, prompt: 'sks', seed: 1, path: 'lora-runs/x/samples/step-000005-0.png' });
    assert.deepEqual(runs.samples(run.id).map((s) => s.step), [0, 5]);
    store.projects.delete(p.id);
    assert.equal(runs.datasetItems(p.id).length, 0);
    assert.equal(runs.samples(run.id).length, 0);
  } finally {
    store.close();
  }
});
