// The lora.train job through the real job queue (worker thread): the run, its metrics, checkpoints
// and samples land in SQLite; cancel marks the run cancelled; submitting it again resumes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { JobQueue } from '../../src-main/jobs';
import { openStore } from '../../src-main/store';
import type { TrainLoraResult } from '../../src-main/jobs/handlers/train-lora';
import { FIXTURE_BUNDLE } from './helpers';

test('lora.train in the worker records the run in the store; cancel, then resume to the end', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'atelier-lora-job-'));
  const queue = new JobQueue();
  try {
    const ds = path.join(root, 'data');
    mkdirSync(ds);
    for (let i = 0; i < 3; i++) {
      writeFileSync(path.join(ds, `i${i}.png`), await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: 60 * i, g: 90, b: 200 } } }).png().toBuffer());
      writeFileSync(path.join(ds, `i${i}.txt`), `blue tile ${i}`);
    }
    const dataDir = path.join(root, 'appdata');
    const store = openStore({ dataDir });
    const project = store.projects.create({ name: 'tiles', kind: 'lora' });
    const run = store.loraRuns.create({ projectId: project.id, baseModel: FIXTURE_BUNDLE, totalSteps: 12 });
    store.close();
    const params = {
      modelDir: FIXTURE_BUNDLE,
      datasetDir: ds,
      dataDir,
      runId: run.id,
      threads: 1,
      settings: { steps: 12, rank: 2, batch: 1, checkpointEvery: 3, keepCheckpoints: 2, sampleEvery: 6, samplePrompts: ['blue tile'], sampleSteps: 2, seed: 3 },
    };
    let id = '';
    const previews: number[] = [];
    queue.onEvent((e) => {
      if (e.jobId !== id) return;
      if (e.type === 'preview') previews.push(e.png.length);
      if (e.type === 'progress' && e.stage === 'train' && e.done === 5) queue.cancel(id);
    });
    id = queue.submit('lora.train', params);
    await assert.rejects(queue.wait(id));
    assert.equal(queue.get(id)!.status, 'cancelled');
    let s = openStore({ dataDir });
    assert.equal(s.loraRuns.get(run.id)!.status, 'cancelled');
    const stoppedAt = s.loraRuns.get(run.id)!.step;
    assert.ok(stoppedAt >= 5 && stoppedAt < 12);
    s.close();

    id = queue.submit('lora.train', params);
    const result = (await queue.wait(id)) as TrainLoraResult;
    assert.equal(result.status, 'done');
    assert.equal(result.resumedFrom, stoppedAt);
    s = openStore({ dataDir });
    try {
      const r = s.loraRuns.get(run.id)!;
      assert.equal(r.status, 'done');
      assert.equal(r.step, 12);
      const metrics = s.loraRuns.metrics(run.id);
      assert.deepEqual(metrics.map((m) => m.step), Array.from({ length: 12 }, (_, i) => i + 1));
      assert.ok(metrics.every((m) => Number.isFinite(m.loss) && m.lr !== null));
      // Keep-last-2 on disk, and the rows follow the files.
      const cks = s.loraRuns.checkpoints(run.id);
      assert.deepEqual(cks.map((c) => c.step), [9, 12]);
      for (const c of cks) assert.ok(existsSync(path.join(dataDir, c.path)), c.path);
      assert.deepEqual(s.loraRuns.samples(run.id).map((x) => x.step), [0, 6, 12]);
      assert.ok(previews.length >= 2);
    } finally {
      s.close();
    }
  } finally {
    await queue.close();
    rmSync(root, { recursive: true, force: true });
  }
});
