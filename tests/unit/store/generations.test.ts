// The history: create/get/update, filters, paging, favourites, tags, full-text search, lineage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { openStore, StoreError, type NewGeneration, type Store } from '../../../src-main/store/index';
import { makePng, sha256, tempDataDir } from './helpers';
import type { TestContext } from 'node:test';

function freshStore(t: TestContext): Store {
  const store = openStore({ dataDir: tempDataDir(t) });
  t.after(() => store.close());
  return store;
}

function draft(overrides: Partial<NewGeneration> = {}): NewGeneration {
  return { kind: 't2i', prompt: 'a lighthouse', seed: 1, modelName: 'atelier-nano', ...overrides };
}

const isCode = (code: string) => (error: unknown) => error instanceof StoreError && error.code === code;

test('create stores every parameter and get reads it back', (t) => {
  const store = freshStore(t);
  const png = makePng(8, 6, 1);
  const created = store.generations.create({
    kind: 'edit',
    prompt: 'a red fox in the snow',
    negativePrompt: 'blurry',
    params: { steps: 20, cfg: 4.5, sampler: 'euler', width: 8, height: 6, strength: 0.7 },
    seed: 2 ** 40 + 3,
    modelName: 'atelier-nano',
    modelHash: 'abc123',
    tags: ['fox', 'winter'],
    favourite: true,
    images: [{ role: 'output', data: png }],
    createdAt: 1_700_000_000_000,
  });
  const got = store.generations.get(created.id);
  assert.deepEqual(got, created);
  assert.equal(got!.kind, 'edit');
  assert.equal(got!.negativePrompt, 'blurry');
  assert.deepEqual(got!.params, { steps: 20, cfg: 4.5, sampler: 'euler', width: 8, height: 6, strength: 0.7 });
  assert.equal(got!.seed, 2 ** 40 + 3);
  assert.equal(got!.modelHash, 'abc123');
  assert.equal(got!.status, 'done', 'a generation with an output defaults to done');
  assert.equal(got!.favourite, true);
  assert.deepEqual(got!.tags, ['fox', 'winter']);
  assert.equal(got!.createdAt, 1_700_000_000_000);
  const [image] = got!.assets;
  assert.equal(image!.role, 'output');
  assert.equal(image!.asset.sha256, sha256(png));
  assert.equal(image!.asset.width, 8);
  assert.equal(image!.asset.height, 6);
  assert.equal(image!.asset.mime, 'image/png');
  assert.equal(image!.asset.bytes, png.byteLength);
  assert.match(image!.asset.path, /^images\/[0-9a-f]{2}\/[0-9a-f]{62}\.png$/);
  assert.deepEqual(new Uint8Array(fs.readFileSync(store.assets.absolutePath(image!.asset))), png);
  assert.deepEqual(new Uint8Array(store.assets.read(image!.asset.sha256)), png);
  assert.equal(store.generations.get('no-such-id'), null);
});

test('update changes status, error and params and appends images', (t) => {
  const store = freshStore(t);
  const queued = store.generations.create(draft());
  assert.equal(queued.status, 'queued');
  const running = store.generations.update(queued.id, { status: 'running' });
  assert.equal(running.status, 'running');
  const done = store.generations.update(queued.id, {
    status: 'done',
    params: { steps: 8 },
    addImages: [{ role: 'output', data: makePng(2, 2, 1) }, { role: 'output', data: makePng(2, 2, 2) }],
  });
  assert.equal(done.status, 'done');
  assert.deepEqual(done.params, { steps: 8 });
  assert.deepEqual(done.assets.map((a) => [a.role, a.position]), [['output', 0], ['output', 1]]);
  const failed = store.generations.update(queued.id, { status: 'failed', error: 'out of memory' });
  assert.equal(failed.error, 'out of memory');
  assert.throws(() => store.generations.update('missing', { status: 'done' }), isCode('NOT_FOUND'));
});

test('bad input gets a clear error and writes nothing', (t) => {
  const store = freshStore(t);
  const bad: unknown[] = [
    draft({ kind: 'paint' as never }),
    draft({ prompt: 42 as never }),
    draft({ seed: -1 }),
    draft({ seed: 1.5 }),
    draft({ modelName: '' }),
    draft({ status: 'half-done' as never }),
    draft({ params: [] as never }),
    draft({ tags: [''] }),
    draft({ images: [{ role: 'thumbnail' as never, data: makePng(1, 1, 1) }] }),
    draft({ images: [{ role: 'output', data: new Uint8Array() }] }),
    draft({ images: [{ role: 'reference', sha256: 'f'.repeat(64) }] }),
  ];
  for (const input of bad) {
    assert.throws(() => store.generations.create(input as NewGeneration), (e: unknown) => e instanceof StoreError, JSON.stringify(input));
  }
  assert.throws(() => store.generations.create(draft({ parentId: 'missing' })), isCode('NOT_FOUND'));
  assert.throws(() => store.generations.create(draft({ projectId: 'missing' })), isCode('NOT_FOUND'));
  assert.equal(store.generations.list().items.length, 0);
});

test('an existing asset can be linked by hash as a reference', (t) => {
  const store = freshStore(t);
  const source = makePng(4, 4, 9);
  const asset = store.assets.put(source);
  const edit = store.generations.create(
    draft({ kind: 'edit', images: [{ role: 'reference', sha256: asset.sha256 }, { role: 'output', data: makePng(4, 4, 10) }] }),
  );
  assert.deepEqual(edit.assets.map((a) => a.role).sort(), ['output', 'reference']);
  assert.equal(edit.assets.find((a) => a.role === 'reference')!.asset.sha256, sha256(source));
});

test('list filters by favourite, model, kind, status, tag, project and date range', (t) => {
  const store = freshStore(t);
  const project = store.projects.create({ name: 'Posters' });
  const a = store.generations.create(draft({ createdAt: 1000, favourite: true, tags: ['sea'] }));
  const b = store.generations.create(draft({ createdAt: 2000, modelName: 'other-model', kind: 'variation', projectId: project.id }));
  const c = store.generations.create(draft({ createdAt: 3000, status: 'failed', tags: ['Sea', 'night'] }));
  const ids = (options: Parameters<Store['generations']['list']>[0]) => store.generations.list(options).items.map((g) => g.id);
  assert.deepEqual(ids({}), [c.id, b.id, a.id], 'newest first');
  assert.deepEqual(ids({ favourite: true }), [a.id]);
  assert.deepEqual(ids({ favourite: false }), [c.id, b.id]);
  assert.deepEqual(ids({ modelName: 'other-model' }), [b.id]);
  assert.deepEqual(ids({ kind: 'variation' }), [b.id]);
  assert.deepEqual(ids({ status: 'failed' }), [c.id]);
  assert.deepEqual(ids({ tag: 'sea' }), [c.id, a.id], 'tags match case-insensitively');
  assert.deepEqual(ids({ projectId: project.id }), [b.id]);
  assert.deepEqual(ids({ from: 1500, to: 3000 }), [c.id, b.id]);
  assert.deepEqual(ids({ from: 1000, to: 1000 }), [a.id]);
  assert.deepEqual(ids({ favourite: true, from: 2000 }), []);
});

test('cursor paging walks every row once, newest first, also with equal timestamps', (t) => {
  const store = freshStore(t);
  const created: string[] = [];
  for (let i = 0; i < 23; i++) created.push(store.generations.create(draft({ prompt: `item ${i}`, createdAt: 1000 + Math.floor(i / 4) })).id);
  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page = store.generations.list({ limit: 5, cursor });
    assert.ok(page.items.length <= 5);
    seen.push(...page.items.map((g) => g.id));
    cursor = page.nextCursor;
    pages++;
  } while (cursor);
  assert.equal(pages, 5);
  assert.deepEqual(seen, [...created].reverse());
  assert.throws(() => store.generations.list({ cursor: 'not-a-cursor' }), isCode('INVALID'));
});

test('full-text search finds generations by words of their prompt', (t) => {
  const store = freshStore(t);
  const fox = store.generations.create(draft({ prompt: 'A red fox jumping over a frozen river' }));
  const cafe = store.generations.create(draft({ prompt: 'Watercolour of a café in Paris', negativePrompt: 'people' }));
  const robot = store.generations.create(draft({ prompt: 'robot fox, "NEAR" AND OR * neon' }));
  const search = (text: string) => store.generations.search(text).items.map((g) => g.id).sort();
  assert.deepEqual(search('fox'), [fox.id, robot.id].sort());
  assert.deepEqual(search('red fox'), [fox.id], 'every word must match');
  assert.deepEqual(search('FROZEN'), [fox.id], 'case-insensitive');
  assert.deepEqual(search('froz'), [fox.id], 'the last word matches as a prefix');
  assert.deepEqual(search('cafe'), [cafe.id], 'diacritics folded');
  assert.deepEqual(search('people'), [cafe.id], 'negative prompt is searched too');
  assert.deepEqual(search('near AND "or'), [robot.id], 'FTS syntax in the text is just words');
  assert.deepEqual(search('giraffe'), []);
  // Combined with a filter.
  store.generations.setFavourite(robot.id, true);
  assert.deepEqual(store.generations.list({ text: 'fox', favourite: true }).items.map((g) => g.id), [robot.id]);
  // Deleted generations leave the index.
  store.generations.delete(fox.id);
  assert.deepEqual(search('frozen'), []);
  assert.deepEqual(search('fox'), [robot.id]);
  // A new row may take the key of a deleted one: it must not inherit the deleted prompt's words.
  store.generations.delete(robot.id);
  const sky = store.generations.create(draft({ prompt: 'plain blue sky' }));
  assert.deepEqual(search('neon'), []);
  assert.deepEqual(search('sky'), [sky.id]);
  assert.equal(store.integrityCheck(), 'ok');
});

test('favourites and tags', (t) => {
  const store = freshStore(t);
  const g = store.generations.create(draft());
  store.generations.setFavourite(g.id, true);
  assert.equal(store.generations.get(g.id)!.favourite, true);
  store.generations.setFavourite(g.id, false);
  assert.equal(store.generations.get(g.id)!.favourite, false);
  assert.throws(() => store.generations.setFavourite('missing', true), isCode('NOT_FOUND'));

  store.generations.addTag(g.id, '  portrait ');
  store.generations.addTag(g.id, 'portrait');
  store.generations.addTag(g.id, 'blue');
  assert.deepEqual(store.generations.get(g.id)!.tags, ['blue', 'portrait']);
  const other = store.generations.create(draft({ tags: ['blue'] }));
  assert.deepEqual(store.generations.allTags(), [{ name: 'blue', count: 2 }, { name: 'portrait', count: 1 }]);
  store.generations.removeTag(g.id, 'portrait');
  store.generations.setTags(other.id, ['green']);
  assert.deepEqual(store.generations.allTags(), [{ name: 'blue', count: 1 }, { name: 'green', count: 1 }]);
  assert.throws(() => store.generations.addTag(g.id, ' '), isCode('INVALID'));
});

test('lineage returns ancestors up to the root and every descendant', (t) => {
  const store = freshStore(t);
  const root = store.generations.create(draft({ prompt: 'root', createdAt: 1 }));
  const edit1 = store.generations.create(draft({ kind: 'edit', prompt: 'edit 1', parentId: root.id, createdAt: 2 }));
  const edit2 = store.generations.create(draft({ kind: 'edit', prompt: 'edit 2', parentId: edit1.id, createdAt: 3 }));
  const branch = store.generations.create(draft({ kind: 'variation', prompt: 'branch', parentId: root.id, createdAt: 4 }));
  const leaf = store.generations.create(draft({ kind: 'inpaint', prompt: 'leaf', parentId: edit2.id, createdAt: 5 }));
  store.generations.create(draft({ prompt: 'unrelated' }));

  const ofEdit2 = store.generations.lineage(edit2.id);
  assert.deepEqual(ofEdit2.ancestors.map((g) => g.id), [edit1.id, root.id]);
  assert.deepEqual(ofEdit2.descendants.map((g) => g.id), [leaf.id]);
  const ofRoot = store.generations.lineage(root.id);
  assert.deepEqual(ofRoot.ancestors, []);
  assert.deepEqual(ofRoot.descendants.map((g) => g.id), [edit1.id, branch.id, edit2.id, leaf.id], 'breadth-first');
  assert.throws(() => store.generations.lineage('missing'), isCode('NOT_FOUND'));

  // Deleting a link in the chain cuts it: the child's parent becomes null (ON DELETE SET NULL).
  store.generations.delete(edit1.id);
  assert.equal(store.generations.get(edit2.id)!.parentId, null);
  assert.deepEqual(store.generations.lineage(edit2.id).ancestors, []);
  assert.deepEqual(store.generations.lineage(root.id).descendants.map((g) => g.id), [branch.id]);
});

test('settings hold JSON values', (t) => {
  const store = freshStore(t);
  assert.equal(store.settings.get('missing'), undefined);
  store.settings.set('ui.theme', 'dark');
  store.settings.set('engine', { threads: 4, provider: 'cpu', recent: [1, 2] });
  store.settings.set('ui.theme', 'light');
  assert.equal(store.settings.get('ui.theme'), 'light');
  assert.deepEqual(store.settings.all(), { engine: { threads: 4, provider: 'cpu', recent: [1, 2] }, 'ui.theme': 'light' });
  store.settings.delete('engine');
  assert.deepEqual(Object.keys(store.settings.all()), ['ui.theme']);
  assert.throws(() => store.settings.set('x', undefined), isCode('INVALID'));
  assert.throws(() => store.settings.set('', 1), isCode('INVALID'));
});

test('projects and LoRA runs with metrics and checkpoints', (t) => {
  const store = freshStore(t);
  const project = store.projects.create({ name: ' Mascot ', kind: 'lora', settings: { trigger: 'mscot' } });
  assert.equal(project.name, 'Mascot');
  assert.deepEqual(store.projects.update(project.id, { name: 'Mascot v2' }).settings, { trigger: 'mscot' });
  assert.deepEqual(store.projects.list().map((p) => p.name), ['Mascot v2']);

  const run = store.loraRuns.create({ projectId: project.id, baseModel: 'atelier-nano', config: { rank: 8 }, totalSteps: 100 });
  store.loraRuns.update(run.id, { status: 'running', step: 20 });
  store.loraRuns.addMetrics(run.id, [
    { step: 10, loss: 0.9, lr: 1e-4, extra: {} },
    { step: 20, loss: 0.7, lr: 1e-4, extra: { gradNorm: 1.2 } },
  ]);
  store.loraRuns.addCheckpoint(run.id, { step: 20, path: 'lora/run/step-20.safetensors', sha256: 'a'.repeat(64), bytes: 1234 });
  assert.deepEqual(store.loraRuns.get(run.id)!.step, 20);
  assert.deepEqual(store.loraRuns.metrics(run.id, { fromStep: 15 }).map((m) => [m.step, m.loss, m.extra]), [[20, 0.7, { gradNorm: 1.2 }]]);
  assert.deepEqual(store.loraRuns.checkpoints(run.id).map((c) => c.step), [20]);
  store.loraRuns.removeCheckpoint(run.id, 20);
  assert.deepEqual(store.loraRuns.checkpoints(run.id), []);

  const member = store.generations.create(draft({ projectId: project.id }));
  store.projects.delete(project.id);
  assert.equal(store.loraRuns.get(run.id), null, 'runs go with their project');
  assert.equal(store.generations.get(member.id)!.projectId, null, 'generations stay');
});

test('the LoRA filter matches params.loras keys at any weight, skips malformed entries, and combines with the others', (t) => {
  const store = freshStore(t);
  const ink = store.generations.create(draft({ prompt: 'an ink fox', params: { loras: [{ key: 'file:ink.safetensors', name: 'ink', weight: 0.75 }] } }));
  const both = store.generations.create(draft({ prompt: 'an ink owl', params: { loras: [{ key: 'run:r1', name: 'owls', weight: 1 }, { key: 'file:ink.safetensors', name: 'ink', weight: 0 }] } }));
  store.generations.create(draft({ prompt: 'a plain fox', params: { steps: 4 } }));
  store.generations.create(draft({ prompt: 'odd', params: { loras: ['file:ink.safetensors', 3, null, { key: 7 }] } }));
  store.generations.create(draft({ prompt: 'odder', params: { loras: 'file:ink.safetensors' } }));
  const ids = (options: Parameters<Store['generations']['list']>[0]) => store.generations.list(options).items.map((g) => g.id).sort();
  assert.deepEqual(ids({ lora: 'file:ink.safetensors' }), [ink.id, both.id].sort());
  assert.deepEqual(ids({ lora: 'run:r1' }), [both.id]);
  assert.deepEqual(ids({ lora: 'file:other.safetensors' }), []);
  assert.deepEqual(ids({ lora: 'file:ink.safetensors', text: 'fox' }), [ink.id]);
  assert.equal(store.generations.search('fox').items.length, 2, 'full-text search is unaffected');
});
