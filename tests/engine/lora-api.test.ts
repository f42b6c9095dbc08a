// The wizard's routes through the funnel, the real job queue (worker thread) and the fixture bundle:
// look at a dataset (problems named), edit a caption (the .txt file changes), train, follow the run
// (losses, samples), try the LoRA next to the same seed without it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { Api } from '../../src-main/api/index';
import { createApi } from '../../src-main/api/index';
import type { LoraRunDetail, LoraRunInfo } from '../../src-shared/contract';
import type { TestCore } from '../unit/contract/helpers';
import { openTestCore } from '../unit/contract/helpers';

const fixtures = path.resolve(import.meta.dirname, '../fixtures');
let t: TestCore;
let api: Api;
let root: string;

before(() => {
  t = openTestCore();
  t.core.modelRoots = [{ dir: fixtures, origin: 'bundled' }];
  api = createApi(t.core, { trustSender: () => true });
  root = mkdtempSync(path.join(tmpdir(), 'atelier-lora-api-'));
});
after(async () => {
  api.close();
  await t.close();
  rmSync(root, { recursive: true, force: true });
});

async function call<T>(route: string, input?: unknown): Promise<T> {
  const result = await api.invoke(route, input, {});
  assert.ok(result.ok, `${route}: ${JSON.stringify(result)}`);
  return result.data as T;
}

test('inspect → caption → train → follow → try', async () => {
  const ds = path.join(root, 'mug');
  mkdirSync(ds);
  for (let i = 0; i < 3; i++) {
    writeFileSync(path.join(ds, `m${i}.png`), await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: 200, g: 40 * i, b: 40 } } }).png().toBuffer());
  }
  writeFileSync(path.join(ds, 'm0.txt'), 'a red mug');
  writeFileSync(path.join(ds, 'm1.txt'), 'a red mug, side');
  let seen = await call<{ items: { name: string; thumb: string }[]; problems: string[]; found: number }>('lora.inspect', { datasetDir: ds, trigger: 'mugzz' });
  assert.equal(seen.found, 3);
  assert.equal(seen.items.length, 2);
  assert.match(seen.problems.join('\n'), /m2\.png: no caption file m2\.txt/);
  assert.match(seen.items[0]!.thumb, /^data:image\/png;base64,/);

  await call('lora.setCaption', { datasetDir: ds, name: 'm2', caption: 'a red mug, top' });
  assert.equal(readFileSync(path.join(ds, 'm2.txt'), 'utf8'), 'a red mug, top');
  seen = await call('lora.inspect', { datasetDir: ds });
  assert.deepEqual(seen.problems, []);

  const { run } = await call<{ run: LoraRunInfo }>('lora.start', { name: 'mug', datasetDir: ds, settings: { steps: 6, rank: 2, batch: 1, learningRate: 0.05, trigger: 'mugzz', sampleEvery: 3, samplePrompts: ['mugzz'], checkpointEvery: 3 } });
  assert.equal(run.name, 'mug');
  // The project's dataset items and captions are in the store, as trained.
  const items = t.core.store.loraRuns.datasetItems(run.projectId);
  assert.deepEqual(items.map((i) => [i.name, i.caption]), [['m0', 'a red mug'], ['m1', 'a red mug, side'], ['m2', 'a red mug, top']]);
  const bad = await api.invoke('lora.start', { name: 'empty', datasetDir: path.join(root, 'nope'), settings: {} }, {});
  assert.ok(!bad.ok && bad.error.code === 'VALIDATION' && /cannot open the folder/.test(bad.error.message), JSON.stringify(bad));
  let detail: LoraRunDetail;
  for (const started = Date.now(); ; ) {
    detail = await call<LoraRunDetail>('lora.run', { runId: run.id });
    if (detail.run.status === 'done' || detail.run.status === 'failed') break;
    assert.ok(Date.now() - started < 50_000, 'training did not finish');
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(detail.run.status, 'done', detail.run.error ?? '');
  assert.deepEqual(detail.losses.map((l) => l.step), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(detail.samples.map((s) => s.step), [0, 3, 6]);
  assert.ok(detail.run.output?.endsWith('lora.safetensors'));
  const runs = await call<{ runs: LoraRunInfo[] }>('lora.runs');
  assert.ok(runs.runs.some((r) => r.id === run.id && r.status === 'done'));

  // Pixels, not PNG bytes (the metadata carries a creation time).
  const pixels = (url: string) => sharp(Buffer.from(url.slice(url.indexOf(',') + 1), 'base64')).raw().toBuffer();
  const tried = await call<{ withLora: string; without: string }>('lora.try', { runId: run.id, prompt: 'mugzz, a red mug', seed: 5, weight: 1 });
  assert.notDeepEqual(await pixels(tried.withLora), await pixels(tried.without));
  const off = await call<{ withLora: string; without: string }>('lora.try', { runId: run.id, prompt: 'mugzz, a red mug', seed: 5, weight: 0 });
  assert.deepEqual(await pixels(off.withLora), await pixels(off.without));
  assert.deepEqual(await pixels(off.without), await pixels(tried.without));

  const missing = await api.invoke('lora.run', { runId: '00000000-0000-4000-8000-000000000000' }, {});
  assert.ok(!missing.ok && missing.error.code === 'NOT_FOUND');
});
