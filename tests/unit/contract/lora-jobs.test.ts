// LoRAs in image jobs through the API, on the real fixture bundle (it has LoRA graphs): which LoRAs
// the renderer may name (a finished run or a file inside <dataDir>/loras/, nothing else), that a LoRA
// at weight 1 changes the image while weight 0 gives exactly the image without it, and that history
// records the LoRAs and filters by them.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import type { Api } from '../../../src-main/api/index';
import { createApi } from '../../../src-main/api/index';
import type { AtelierEvent, AvailableLora, HistoryItem, HistoryPage, JobEvent } from '../../../src-shared/contract';
import type { TestCore } from './helpers';
import { openTestCore } from './helpers';
import { writeTestLora } from './lora-helpers';

const fixtures = resolve(import.meta.dirname, '../../fixtures');
const bundleDir = join(fixtures, 'bundle-fixture');
let t: TestCore;
let api: Api;
let outside: string;
const events: JobEvent[] = [];
let stop: () => void;

before(() => {
  t = openTestCore();
  // The fixture, plus a copy of it without LoRA graphs.
  const plain = join(t.dataDir, 'models');
  cpSync(bundleDir, join(plain, 'no-lora-model'), { recursive: true });
  const manifestFile = join(plain, 'no-lora-model', 'bundle.json');
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Record<string, unknown>;
  delete manifest.lora;
  writeFileSync(manifestFile, JSON.stringify(manifest));
  t.core.modelRoots = [{ dir: fixtures, origin: 'bundled' }, { dir: plain, origin: 'imported' }];
  api = createApi(t.core, { trustSender: () => true });
  stop = api.forwardEvents((event: AtelierEvent) => {
    if (event.name === 'jobs.event') events.push(event.data);
  });
  writeTestLora(bundleDir, join(t.dataDir, 'loras', 'styles', 'ink.safetensors'), { seed: 7 });
  outside = mkdtempSync(join(tmpdir(), 'atelier-outside-'));
  writeTestLora(bundleDir, join(outside, 'secret.safetensors'), { seed: 8 });
  symlinkSync(join(outside, 'secret.safetensors'), join(t.dataDir, 'loras', 'escape.safetensors'));
});
after(async () => {
  stop();
  api.close();
  await t.close();
  rmSync(outside, { recursive: true, force: true });
});

function finished(jobId: string): Promise<JobEvent> {
  return new Promise((done) => {
    const timer = setInterval(() => {
      const last = events.find((e) => e.jobId === jobId && (e.type === 'result' || e.type === 'error' || e.type === 'cancelled'));
      if (last) {
        clearInterval(timer);
        done(last);
      }
    }, 20);
  });
}

async function call(route: string, input: unknown) {
  return api.invoke(route, input, {});
}
async function ok<T>(route: string, input: unknown): Promise<T> {
  const result = await call(route, input);
  assert.ok(result.ok, `${route}: ${JSON.stringify(result)}`);
  return result.data as T;
}
async function refused(input: unknown): Promise<{ code: string; message: string }> {
  const result = await call('jobs.submit', input);
  assert.ok(!result.ok, `expected a refusal, got ${JSON.stringify(result)}`);
  return result.error;
}

const params = (loras?: unknown) => ({ prompt: 'a small red square', seed: 21, steps: 2, cfg: 2, model: 'bundle-fixture', ...(loras ? { loras } : {}) });

/** Generates and returns the history item. */
async function generate(loras?: unknown): Promise<HistoryItem> {
  const { jobId } = await ok<{ jobId: string }>('jobs.submit', { kind: 'image.generate', params: params(loras) });
  const done = await finished(jobId);
  assert.equal(done.type, 'result', JSON.stringify(done));
  const { generationIds } = (done as Extract<JobEvent, { type: 'result' }>).result as { generationIds: string[] };
  return ok<HistoryItem>('history.get', { id: generationIds[0] });
}
/** The output's decoded pixels (the PNG bytes differ anyway: the embedded metadata has a timestamp). */
async function pixels(item: HistoryItem): Promise<Buffer> {
  const output = item.images.find((i) => i.role === 'output')!;
  return sharp(join(t.dataDir, output.url.replace(/^test-image:\//, ''))).raw().toBuffer();
}

test('paths outside the LoRA folder, unknown LoRAs and LoRA-less models are refused before a job starts', async () => {
  await ok('settings.set', { executionProvider: 'cpu', threads: 1 });
  const before = (await ok<{ jobs: unknown[] }>('jobs.list', undefined)).jobs.length;
  for (const path of ['/etc/passwd.safetensors', '../escape.safetensors', 'styles/../../x.safetensors', 'C:/loras/a.safetensors', 'styles\\ink.safetensors', 'ink.bin']) {
    const error = await refused({ kind: 'image.generate', params: params([{ path, weight: 1 }]) });
    assert.equal(error.code, 'VALIDATION', path);
  }
  // A link inside the folder that leads out of it is refused too, and not offered.
  assert.equal((await refused({ kind: 'image.generate', params: params([{ path: 'escape.safetensors', weight: 1 }]) })).code, 'FORBIDDEN');
  const missing = await refused({ kind: 'image.generate', params: params([{ path: 'nope.safetensors', weight: 1 }]) });
  assert.equal(missing.code, 'NOT_FOUND');
  assert.match(missing.message, /nope\.safetensors/);
  const unknownRun = await refused({ kind: 'image.generate', params: params([{ loraId: '3f2c1a9e-5b7d-4c2e-9f1a-0b6d8e4c2a71', weight: 1 }]) });
  assert.equal(unknownRun.code, 'NOT_FOUND');
  assert.equal((await refused({ kind: 'image.generate', params: params([{ path: 'styles/ink.safetensors', weight: 1 }, { path: 'styles/ink.safetensors', weight: 0.5 }]) })).code, 'VALIDATION');
  assert.equal((await refused({ kind: 'image.generate', params: params([{ path: 'styles/ink.safetensors', weight: 2.5 }]) })).code, 'VALIDATION');
  const noGraphs = await refused({ kind: 'image.generate', params: { ...params([{ path: 'styles/ink.safetensors', weight: 1 }]), model: 'no-lora-model' } });
  assert.equal(noGraphs.code, 'UNAVAILABLE');
  assert.match(noGraphs.message, /no LoRA graphs/);
  assert.equal((await ok<{ jobs: unknown[] }>('jobs.list', undefined)).jobs.length, before, 'no job was queued');
});

test('lora.available lists finished runs and the LoRA folder, and a run can be applied by id', { timeout: 120_000 }, async () => {
  const project = t.core.store.projects.create({ name: 'mugs', kind: 'lora', settings: {} });
  const unfinished = t.core.store.loraRuns.create({ projectId: project.id, baseModel: bundleDir, totalSteps: 4 });
  const run = t.core.store.loraRuns.create({ projectId: project.id, baseModel: bundleDir, totalSteps: 4 });
  t.core.store.loraRuns.update(run.id, { status: 'done', step: 4 });
  writeTestLora(bundleDir, join(t.dataDir, 'lora-runs', run.id, 'lora.safetensors'), { seed: 9 });

  const { loras, folder } = await ok<{ loras: AvailableLora[]; folder: string }>('lora.available', undefined);
  assert.equal(folder, join(t.dataDir, 'loras'));
  assert.deepEqual(loras.map((l) => [l.key, l.name, l.source]), [
    [`run:${run.id}`, 'mugs', 'trained'],
    ['file:styles/ink.safetensors', 'styles/ink', 'file'],
  ]);
  assert.equal((await refused({ kind: 'image.generate', params: params([{ loraId: unfinished.id, weight: 1 }]) })).code, 'CONFLICT');

  const item = await generate([{ loraId: run.id, weight: 0.75 }]);
  assert.deepEqual(item.params.loras, [{ key: `run:${run.id}`, name: 'mugs', weight: 0.75 }]);
});

test('a LoRA at weight 1 changes the image, at weight 0 it gives exactly the image without it; history filters by LoRA', { timeout: 180_000 }, async () => {
  const plain = await generate();
  const withLora = await generate([{ path: 'styles/ink.safetensors', weight: 1 }]);
  const atZero = await generate([{ path: 'styles/ink.safetensors', weight: 0 }]);
  const [p0, p1, pz] = await Promise.all([pixels(plain), pixels(withLora), pixels(atZero)]);
  assert.ok(!p1.equals(p0), 'the LoRA changed nothing');
  assert.ok(pz.equals(p0), 'weight 0 must give exactly the image without the LoRA');
  assert.equal(plain.params.loras, undefined);
  assert.deepEqual(withLora.params.loras, [{ key: 'file:styles/ink.safetensors', name: 'styles/ink', weight: 1 }]);

  const filtered = await ok<HistoryPage>('history.list', { lora: 'file:styles/ink.safetensors' });
  assert.deepEqual(filtered.items.map((i) => i.id).sort(), [withLora.id, atZero.id].sort());
  // Additive: other filters still apply, and full-text search is unaffected.
  assert.deepEqual((await ok<HistoryPage>('history.list', { lora: 'file:styles/ink.safetensors', text: 'nothing-like-this' })).items, []);
  assert.equal((await ok<HistoryPage>('history.list', { lora: 'file:other.safetensors' })).items.length, 0);
  const all = await ok<HistoryPage>('history.search', { text: 'red square' });
  assert.ok(all.items.some((i) => i.id === plain.id) && all.items.some((i) => i.id === withLora.id));
});
