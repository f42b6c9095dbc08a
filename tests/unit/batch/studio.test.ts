// Batches in the studio, through the funnel, the real job queue (worker thread) and the fixture
// bundle: a dropped list becomes a batch whose rows land in the history; bad rows are reported and
// the rest run; cancel stops it and resume finishes it without duplicates; the batch and a history
// selection export to files with their parameters and a manifest.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import Database from 'better-sqlite3';
import type { Api } from '../../../src-main/api/index';
import { createApi } from '../../../src-main/api/index';
import type { BatchRowInfo, BatchSummary } from '../../../src-shared/contract';
import { readEmbedded } from '../../../src-main/export/encode';
import { readZipEntries } from '../../../src-main/export/zip';
import type { TestCore } from '../contract/helpers';
import { openTestCore } from '../contract/helpers';

const fixtures = path.resolve(import.meta.dirname, '../../fixtures');
let t: TestCore;
let api: Api;

before(() => {
  t = openTestCore();
  t.core.modelRoots = [{ dir: fixtures, origin: 'bundled' }];
  api = createApi(t.core, { trustSender: () => true });
});
after(async () => {
  api.close();
  await t.close();
});

async function call<T>(route: string, input?: unknown): Promise<T> {
  const result = await api.invoke(route, input, {});
  assert.ok(result.ok, `${route}: ${JSON.stringify(result)}`);
  return result.data as T;
}

async function until(id: string, test: (b: BatchSummary) => boolean, timeoutMs = 60_000): Promise<BatchSummary> {
  const start = Date.now();
  for (;;) {
    const { batch } = await call<{ batch: BatchSummary }>('batch.get', { id });
    if (test(batch)) return batch;
    if (Date.now() - start > timeoutMs) throw new Error(`batch ${id} stuck: ${JSON.stringify(batch)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

test('a dropped CSV runs in the queue; good rows land in the history, bad rows are reported', { timeout: 120_000 }, async () => {
  await call('settings.set', { executionProvider: 'cpu', threads: 1 });
  const text = 'prompt,seed,steps\n"a red cube, small",1,2\n,2,2\nsteps too many,3,999\n"a blue ball",4,2\n';
  const created = await call<{ batch: BatchSummary; issues: { line: number; errors: string[] }[] }>('batch.create', { fileName: 'drop.csv', text, model: 'bundle-fixture' });
  assert.deepEqual(created.issues, [{ line: 3, errors: ['the prompt is empty'] }, { line: 4, errors: ['steps must be between 1 and 200 (got 999)'] }]);
  assert.equal(created.batch.total, 4);
  assert.ok(created.batch.jobId);
  const done = await until(created.batch.id, (b) => b.state === 'done');
  const { rows } = await call<{ rows: BatchRowInfo[] }>('batch.get', { id: created.batch.id });
  assert.deepEqual([done.done, done.failed, done.resumable], [2, 2, false], JSON.stringify(rows));
  assert.deepEqual(rows.map((r) => r.status), ['done', 'failed', 'failed', 'done']);
  for (const r of rows.filter((x) => x.status === 'done')) {
    const item = await call<{ prompt: string; seed: number; params: Record<string, unknown> }>('history.get', { id: r.generationId });
    assert.equal(item.prompt, r.prompt);
    assert.equal(item.seed, r.seed);
    assert.equal(item.params['batchId'], created.batch.id);
  }
  const list = await call<{ batches: BatchSummary[] }>('batch.list');
  assert.equal(list.batches[0]!.id, created.batch.id);

  // Export the batch: JPEG files with the parameters inside, a manifest that matches, one zip.
  const out = path.join(t.dataDir, 'export');
  const exported = await call<{ exported: number; manifest: string; zip: string }>('batch.export', { batchId: created.batch.id, outDir: out, format: 'jpeg', template: '{seed}-{prompt-slug}', zip: true });
  assert.equal(exported.exported, 2);
  const files = fs.readdirSync(out).filter((f) => f.endsWith('.jpg')).sort();
  assert.deepEqual(files, ['1-a-red-cube-small.jpg', '4-a-blue-ball.jpg']);
  const back = readEmbedded(fs.readFileSync(path.join(out, files[0]!)));
  assert.equal(back.parameters!.prompt, 'a red cube, small');
  assert.equal(back.parameters!.params['Seed'], '1');
  assert.equal(back.atelier!.steps, 2);
  const manifest = JSON.parse(fs.readFileSync(exported.manifest, 'utf8')) as { items: { file: string; sha256: string }[] };
  for (const item of manifest.items) assert.equal(createHash('sha256').update(fs.readFileSync(path.join(out, item.file))).digest('hex'), item.sha256);
  assert.deepEqual(readZipEntries(fs.readFileSync(exported.zip)).map((e) => e.name).sort(), [...files, 'manifest.csv', 'manifest.json'].sort());

  // Exporting again never overwrites: the names get a suffix.
  await call('batch.export', { generationIds: rows.filter((r) => r.generationId).map((r) => r.generationId), outDir: out, format: 'jpeg', template: '{seed}-{prompt-slug}' });
  assert.ok(fs.existsSync(path.join(out, '1-a-red-cube-small-2.jpg')));
});

test('cancel stops a running batch; resume finishes it with no duplicate rows or files', { timeout: 120_000 }, async () => {
  const out = path.join(t.dataDir, 'files');
  const text = Array.from({ length: 30 }, (_, i) => JSON.stringify({ prompt: `tile ${i}`, seed: i, steps: 40 })).join('\n');
  const created = await call<{ batch: BatchSummary }>('batch.create', { fileName: 'tiles.jsonl', text, model: 'bundle-fixture', outDir: out, format: 'webp' });
  await until(created.batch.id, (b) => b.done >= 3);
  await call('batch.cancel', { id: created.batch.id });
  const stopped = await until(created.batch.id, (b) => b.state === 'cancelled' && b.jobId === null);
  assert.ok(stopped.done < 30 && stopped.resumable, JSON.stringify(stopped));
  const cancelAgain = await api.invoke('batch.cancel', { id: created.batch.id }, {});
  assert.ok(!cancelAgain.ok && cancelAgain.error.code === 'CONFLICT', JSON.stringify(cancelAgain));
  await call('batch.resume', { id: created.batch.id });
  const done = await until(created.batch.id, (b) => b.state === 'done' && b.jobId === null);
  assert.deepEqual([done.done, done.failed], [30, 0]);
  const files = fs.readdirSync(out).filter((f) => f.endsWith('.webp'));
  assert.equal(files.length, 30);
  const history = await call<{ items: { params: Record<string, unknown> }[] }>('history.list', { limit: 500 });
  assert.equal(history.items.filter((i) => i.params['batchId'] === created.batch.id).length, 30, 'one history item per row');
  assert.equal(files.length, new Set(files).size);
  const again = await api.invoke('batch.resume', { id: created.batch.id }, {});
  assert.ok(!again.ok && again.error.code === 'CONFLICT' && /no rows left/.test(again.error.message), JSON.stringify(again));
});

test('a batch whose runner died (app closed, kill -9) shows as interrupted and resumes', { timeout: 120_000 }, async () => {
  // Made as the CLI or a previous app session would leave it: running, held by a process now gone.
  const { createBatch } = await import('../../../src-main/batch/plan');
  const { batch } = createBatch(t.core.store, {
    text: 'one\ntwo\nthree\n',
    fileName: 'left.txt',
    baseDir: t.dataDir,
    options: { outDir: null, format: 'png', template: '{index}', steps: 2, model: path.join(fixtures, 'bundle-fixture') },
    modelNameOf: () => 'fixture',
  });
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
  const db = new Database(t.core.store.dbPath);
  db.prepare(`UPDATE batch_jobs SET status = 'running', runner = ? WHERE id = ?`).run(`${os.hostname()}:${dead}:gone`, batch.id);
  db.close();
  const listed = (await call<{ batches: BatchSummary[] }>('batch.list')).batches.find((b) => b.id === batch.id)!;
  assert.deepEqual([listed.state, listed.resumable, listed.jobId], ['interrupted', true, null]);
  await call('batch.resume', { id: batch.id });
  const done = await until(batch.id, (b) => b.state === 'done' && b.jobId === null);
  assert.deepEqual([done.done, done.failed], [3, 0]);
});

test('bad input is refused with a clear error', async () => {
  const noPrompt = await api.invoke('batch.create', { fileName: 'x.csv', text: 'seed\n1\n' }, {});
  assert.ok(!noPrompt.ok && noPrompt.error.code === 'VALIDATION' && /"prompt"/.test(noPrompt.error.message));
  const relative = await api.invoke('batch.create', { fileName: 'x.txt', text: 'a cat', outDir: 'relative/dir' }, {});
  assert.ok(!relative.ok && /absolute path/.test(relative.error.message));
  const template = await api.invoke('batch.create', { fileName: 'x.txt', text: 'a cat', template: '{bogus}', model: 'bundle-fixture' }, {});
  assert.ok(!template.ok && /unknown placeholder \{bogus\}/.test(template.error.message));
  const missing = await api.invoke('batch.get', { id: '3f2c1a9e-5b7d-4c2e-9f1a-0b6d8e4c2a71' }, {});
  assert.ok(!missing.ok && missing.error.code === 'NOT_FOUND');
});
