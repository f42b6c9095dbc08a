// Opening databases: fresh, from every earlier schema, newer schemas refused untouched, junk refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { openStore, LATEST_SCHEMA_VERSION, StoreError } from '../../../src-main/store/index';
import { openDatabase } from '../../../src-main/store/database';
import { migrations } from '../../../src-main/store/migrations';
import { fileSha256, tempDataDir } from './helpers';

function tableNames(dbPath: string): string[] {
  const db = new Database(dbPath, { readonly: true });
  try {
    return db
      .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type IN ('table') ORDER BY name")
      .all()
      .map((row) => row.name);
  } finally {
    db.close();
  }
}

test('a fresh data folder gets the latest schema, in WAL mode', (t) => {
  const dataDir = tempDataDir(t);
  const store = openStore({ dataDir: path.join(dataDir, 'nested', 'data') });
  assert.equal(store.schemaVersion, LATEST_SCHEMA_VERSION);
  const dbPath = store.dbPath;
  store.close();
  const db = new Database(dbPath, { readonly: true });
  assert.equal(db.pragma('user_version', { simple: true }), LATEST_SCHEMA_VERSION);
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  db.close();
  const tables = tableNames(dbPath);
  for (const table of ['generations', 'assets', 'generation_assets', 'tags', 'generation_tags', 'generations_fts', 'projects', 'settings', 'lora_runs', 'lora_metrics', 'lora_checkpoints', 'batch_jobs']) {
    assert.ok(tables.includes(table), `missing table ${table}`);
  }
});

test('the connection enforces foreign keys', (t) => {
  const store = openStore({ dataDir: tempDataDir(t) });
  t.after(() => store.close());
  assert.throws(
    () => store.loraRuns.create({ projectId: 'no-such-project', baseModel: 'nano', totalSteps: 10 }),
    (error: unknown) => error instanceof StoreError && error.code === 'NOT_FOUND',
  );
  // Below the API: the database itself refuses a dangling reference.
  const project = store.projects.create({ name: 'p', kind: 'lora' });
  const run = store.loraRuns.create({ projectId: project.id, baseModel: 'nano', totalSteps: 10 });
  store.loraRuns.addMetrics(run.id, [{ step: 1, loss: 0.5, lr: 1e-4, extra: {} }]);
  assert.throws(() => store.loraRuns.addMetrics('missing-run', [{ step: 1, loss: 0.5, lr: null, extra: {} }]), /FOREIGN KEY/);
});

for (let from = 0; from < LATEST_SCHEMA_VERSION; from++) {
  test(`a database at schema ${from} migrates to ${LATEST_SCHEMA_VERSION} and keeps its rows`, (t) => {
    const dataDir = tempDataDir(t);
    const dbPath = path.join(dataDir, 'atelier.db');
    const old = openDatabase(dbPath, migrations.slice(0, from));
    assert.equal(old.pragma('user_version', { simple: true }), from);
    if (from >= 1) {
      old
        .prepare(
          `INSERT INTO generations (id, created_at, updated_at, kind, prompt, seed, model_name, status)
           VALUES ('g1', 1000, 1000, 't2i', 'an old lighthouse at dusk', 7, 'nano', 'done')`,
        )
        .run();
      old.prepare(`INSERT INTO settings (key, value, updated_at) VALUES ('theme', '"dark"', 1)`).run();
    }
    old.close();

    const store = openStore({ dataDir });
    t.after(() => store.close());
    assert.equal(store.schemaVersion, LATEST_SCHEMA_VERSION);
    assert.equal(store.integrityCheck(), 'ok');
    if (from >= 1) {
      assert.equal(store.generations.get('g1')?.prompt, 'an old lighthouse at dusk');
      assert.deepEqual(store.generations.search('lighthouse').items.map((g) => g.id), ['g1']);
      assert.equal(store.settings.get('theme'), 'dark');
    }
    // Tables of the later migrations are usable.
    const project = store.projects.create({ name: 'Mascot', kind: 'lora' });
    const run = store.loraRuns.create({ projectId: project.id, baseModel: 'nano', totalSteps: 100 });
    assert.equal(store.loraRuns.get(run.id)?.status, 'pending');
  });
}

test('a migration that fails is rolled back whole and the schema version stays', (t) => {
  const dataDir = tempDataDir(t);
  const dbPath = path.join(dataDir, 'atelier.db');
  openStore({ dataDir }).close();
  const broken = [
    ...migrations,
    { version: LATEST_SCHEMA_VERSION + 1, name: 'broken', sql: 'CREATE TABLE half_done (id INTEGER); INSERT INTO no_such_table VALUES (1);' },
  ];
  assert.throws(() => openDatabase(dbPath, broken), /no such table: no_such_table/);
  assert.ok(!tableNames(dbPath).includes('half_done'), 'the first statement was rolled back too');
  const store = openStore({ dataDir });
  t.after(() => store.close());
  assert.equal(store.schemaVersion, LATEST_SCHEMA_VERSION);
  const db = new Database(dbPath, { readonly: true });
  assert.equal(db.pragma('user_version', { simple: true }), LATEST_SCHEMA_VERSION);
  db.close();
});

test('reopening an up-to-date database applies nothing and keeps data', (t) => {
  const dataDir = tempDataDir(t);
  const first = openStore({ dataDir });
  first.settings.set('k', { a: 1 });
  first.close();
  const second = openStore({ dataDir });
  t.after(() => second.close());
  assert.deepEqual(second.settings.get('k'), { a: 1 });
});

for (const journal of ['delete', 'wal'] as const) {
  test(`a database from a newer version (${journal} journal) is refused and left byte-for-byte unchanged`, (t) => {
    const dataDir = tempDataDir(t);
    const dbPath = path.join(dataDir, 'atelier.db');
    const newer = new Database(dbPath);
    newer.pragma(`journal_mode = ${journal}`);
    newer.exec('CREATE TABLE future_things (id INTEGER PRIMARY KEY, what TEXT)');
    newer.prepare('INSERT INTO future_things (what) VALUES (?)').run('from the future');
    newer.pragma(`user_version = ${LATEST_SCHEMA_VERSION + 1}`);
    newer.close();
    const before = fileSha256(dbPath);
    const sizeBefore = fs.statSync(dbPath).size;

    assert.throws(
      () => openStore({ dataDir }),
      (error: unknown) =>
        error instanceof StoreError &&
        error.code === 'NEWER_SCHEMA' &&
        /newer version of Atelier/.test(error.message) &&
        error.message.includes(`schema ${LATEST_SCHEMA_VERSION + 1}`),
    );
    assert.equal(fileSha256(dbPath), before);
    assert.equal(fs.statSync(dbPath).size, sizeBefore);
    const check = new Database(dbPath, { readonly: true });
    assert.equal(check.pragma('user_version', { simple: true }), LATEST_SCHEMA_VERSION + 1);
    assert.equal(check.pragma('journal_mode', { simple: true }), journal);
    assert.equal(
      check.prepare<[], { n: number }>("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'generations'").get()!.n,
      0,
      'no migration ran',
    );
    check.close();
  });
}

test('a file that is not a database is refused with a clear error and kept', (t) => {
  const dataDir = tempDataDir(t);
  const dbPath = path.join(dataDir, 'atelier.db');
  fs.writeFileSync(dbPath, 'these are my notes, not a database '.repeat(200));
  const before = fileSha256(dbPath);
  assert.throws(
    () => openStore({ dataDir }),
    (error: unknown) => error instanceof StoreError && error.code === 'CORRUPT_DB' && error.message.includes(dbPath),
  );
  assert.equal(fileSha256(dbPath), before);
});
