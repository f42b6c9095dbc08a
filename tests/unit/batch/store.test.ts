// Batch rows in the real SQLite store: one runner at a time, a dead runner's batch taken over, rows
// done only through complete(), failed rows kept, a forced re-run keeps each row's file name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import Database from 'better-sqlite3';
import { openStore } from '../../../src-main/store/index';
import { tempDataDir } from '../store/helpers';

function newBatch(store: ReturnType<typeof openStore>) {
  return store.batches.create({
    source: 'p.csv',
    outDir: '/tmp/out',
    resumeKey: 'k1',
    params: { format: 'png' },
    rows: [
      { line: 2, params: { prompt: 'a', seed: 1 }, outputPath: '0001-a.png' },
      { line: 3, params: {}, error: 'the prompt is empty' },
      { line: 4, params: { prompt: 'c', seed: 3 }, outputPath: '0003-c.png' },
    ],
  });
}

test('rows start pending (input errors failed), complete and fail update the counts', (t) => {
  const store = openStore({ dataDir: tempDataDir(t) });
  t.after(() => store.close());
  const batch = newBatch(store);
  assert.equal(batch.total, 3);
  assert.equal(batch.failed, 1);
  assert.deepEqual(store.batches.rows(batch.id).map((r) => [r.index, r.line, r.status, r.outputPath]), [[1, 2, 'pending', '0001-a.png'], [2, 3, 'failed', null], [3, 4, 'pending', '0003-c.png']]);
  assert.equal(store.batches.findByKey('k1')!.id, batch.id);
  assert.equal(store.batches.findByKey('nope'), null);
  const token = store.batches.claim(batch.id)!;
  assert.ok(token);
  store.batches.complete(batch.id, 1, { sha256: 'a'.repeat(64), bytes: 10, width: 32, height: 32 });
  assert.throws(() => store.batches.complete(batch.id, 1, { sha256: 'b'.repeat(64), bytes: 1, width: 1, height: 1 }), /not waiting to run/);
  store.batches.fail(batch.id, 3, 'engine exploded');
  store.batches.release(batch.id, token, 'done');
  const after = store.batches.get(batch.id)!;
  assert.deepEqual([after.status, after.done, after.failed, after.runner], ['done', 1, 2, null]);
  assert.deepEqual(store.batches.counts(batch.id), { pending: 0, running: 0, done: 1, failed: 2 });
  assert.equal(store.batches.row(batch.id, 1)!.sha256, 'a'.repeat(64));

  // --force: every row that ran goes back to pending with its file name; the input error stays.
  store.batches.resetForRerun(batch.id);
  assert.deepEqual(store.batches.rows(batch.id).map((r) => [r.status, r.outputPath, r.sha256]), [['pending', '0001-a.png', null], ['failed', null, null], ['pending', '0003-c.png', null]]);
  assert.equal(store.batches.get(batch.id)!.done, 0);
  assert.equal(store.batches.list()[0]!.id, batch.id);
});

test('a batch held by a live process is refused; one held by a dead process is taken over', (t) => {
  const dataDir = tempDataDir(t);
  const store = openStore({ dataDir });
  t.after(() => store.close());
  const batch = newBatch(store);
  const raw = new Database(store.dbPath);
  t.after(() => raw.close());
  const setRunner = (token: string) => raw.prepare('UPDATE batch_jobs SET runner = ? WHERE id = ?').run(token, batch.id);
  const setRunning = () => raw.prepare(`UPDATE batch_rows SET status = 'running' WHERE batch_id = ? AND row_index = 1`).run(batch.id);

  // The parent of this test process is alive: its token holds the batch.
  setRunner(`${os.hostname()}:${process.ppid}:x`);
  assert.equal(store.batches.claim(batch.id), null);

  // A process that has exited: its batch is free, its running rows back to pending.
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  setRunner(`${os.hostname()}:${dead.stdout}:y`);
  setRunning();
  const token = store.batches.claim(batch.id);
  assert.ok(token);
  assert.equal(store.batches.row(batch.id, 1)!.status, 'pending');
  assert.equal(store.batches.get(batch.id)!.status, 'running');

  // Our own token while we hold it: refused; after release: free.
  assert.equal(store.batches.claim(batch.id), null);
  store.batches.release(batch.id, token!, 'interrupted');
  const again = store.batches.claim(batch.id);
  assert.ok(again);
  store.batches.release(batch.id, again!, 'cancelled');
  assert.equal(store.batches.get(batch.id)!.status, 'cancelled');
});

test('deleting a batch deletes its rows', (t) => {
  const store = openStore({ dataDir: tempDataDir(t) });
  t.after(() => store.close());
  const batch = newBatch(store);
  store.batches.delete(batch.id);
  assert.equal(store.batches.get(batch.id), null);
  assert.deepEqual(store.batches.rows(batch.id), []);
});
