// Image jobs through the API with the real fixture bundle (random weights, real ONNX sessions):
// the result is written to history before the event reaches the renderer, edits of a history item
// become its children, and the event carries history ids rather than bytes.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import type { Api } from '../../../src-main/api/index';
import { createApi } from '../../../src-main/api/index';
import type { AtelierEvent, HistoryItem, JobEvent } from '../../../src-shared/contract';
import type { TestCore } from './helpers';
import { openTestCore } from './helpers';

const fixtures = resolve(import.meta.dirname, '../../fixtures');
let t: TestCore;
let api: Api;
const events: JobEvent[] = [];
let stop: () => void;

before(() => {
  t = openTestCore();
  t.core.modelRoots = [{ dir: fixtures, origin: 'bundled' }];
  api = createApi(t.core, { trustSender: () => true });
  stop = api.forwardEvents((event: AtelierEvent) => {
    if (event.name === 'jobs.event') events.push(event.data);
  });
});
after(async () => {
  stop();
  api.close();
  await t.close();
});

function finished(jobId: string): Promise<JobEvent> {
  return new Promise((resolvePromise) => {
    const timer = setInterval(() => {
      const last = events.find((e) => e.jobId === jobId && (e.type === 'result' || e.type === 'error' || e.type === 'cancelled'));
      if (last) {
        clearInterval(timer);
        resolvePromise(last);
      }
    }, 20);
  });
}

async function ok<T>(route: string, input: unknown): Promise<T> {
  const result = await api.invoke(route, input, {});
  assert.ok(result.ok, `${route}: ${JSON.stringify(result)}`);
  return result.data as T;
}

test('generate, then edit the result: both land in history with files, parameters and lineage', { timeout: 120_000 }, async () => {
  await ok('settings.set', { executionProvider: 'cpu', threads: 1 });
  const { jobId } = await ok<{ jobId: string }>('jobs.submit', {
    kind: 'image.generate',
    params: { prompt: 'a small red square', seed: 11, steps: 2, cfg: 2, model: 'bundle-fixture' },
  });
  const done = await finished(jobId);
  assert.equal(done.type, 'result', JSON.stringify(done));
  const ids = (done as Extract<JobEvent, { type: 'result' }>).result as { generationIds: string[] };
  assert.equal(ids.generationIds.length, 1);

  const item = await ok<HistoryItem>('history.get', { id: ids.generationIds[0] });
  assert.equal(item.prompt, 'a small red square');
  assert.equal(item.seed, 11);
  assert.equal(item.kind, 't2i');
  assert.equal(item.status, 'done');
  assert.equal(item.params.steps, 2);
  assert.equal(item.params.executionProvider, 'cpu');
  const output = item.images.find((i) => i.role === 'output');
  assert.ok(output);
  const file = join(t.dataDir, output.url.replace(/^test-image:\//, ''));
  assert.ok(existsSync(file));
  assert.equal(readFileSync(file).subarray(1, 4).toString('latin1'), 'PNG');

  const edit = await ok<{ jobId: string }>('jobs.submit', {
    kind: 'image.edit',
    params: { prompt: 'make it blue', seed: 12, steps: 2, cfg: 2, model: 'bundle-fixture', source: { generationId: item.id }, strength: 0.6 },
  });
  const edited = await finished(edit.jobId);
  assert.equal(edited.type, 'result', JSON.stringify(edited));
  const childId = ((edited as Extract<JobEvent, { type: 'result' }>).result as { generationIds: string[] }).generationIds[0];
  const child = await ok<HistoryItem>('history.get', { id: childId });
  assert.equal(child.kind, 'edit');
  assert.equal(child.parentId, item.id);
  const lineage = await ok<{ ancestors: HistoryItem[]; descendants: HistoryItem[] }>('history.lineage', { id: item.id });
  assert.deepEqual(lineage.descendants.map((d) => d.id), [childId]);
});

test('a missing model or history item is refused before anything is queued', async () => {
  const before = (await ok<{ jobs: unknown[] }>('jobs.list', undefined)).jobs.length;
  const noModel = await api.invoke('jobs.submit', { kind: 'image.generate', params: { prompt: 'x', seed: 1, steps: 1, cfg: 1, model: 'nope' } }, {});
  assert.equal(!noModel.ok && noModel.error.code, 'NOT_FOUND');
  const noSource = await api.invoke('jobs.submit', {
    kind: 'image.edit',
    params: { prompt: 'x', seed: 1, steps: 1, cfg: 1, source: { generationId: '00000000-0000-4000-8000-000000000000' } },
  }, {});
  assert.equal(!noSource.ok && noSource.error.code, 'NOT_FOUND');
  const broken = await api.invoke('jobs.submit', { kind: 'image.generate', params: { prompt: 'x', seed: 1, steps: 1, cfg: 1, model: 'reference' } }, {});
  assert.equal(!broken.ok && broken.error.code, 'UNAVAILABLE');
  assert.equal((await ok<{ jobs: unknown[] }>('jobs.list', undefined)).jobs.length, before);
});
