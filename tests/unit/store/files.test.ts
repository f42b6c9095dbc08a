// Content-addressed image files: reuse, repair, deletion only when unreferenced, cleanup of
// leftovers (temp files of dead writers, files no row names).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { openStore, StoreError } from '../../../src-main/store/index';
import { fileSha256, imageFiles, makePng, sha256, tempDataDir } from './helpers';

test('identical bytes are stored once and reused', (t) => {
  const dataDir = tempDataDir(t);
  const store = openStore({ dataDir });
  t.after(() => store.close());
  const png = makePng(3, 3, 5);
  const a = store.generations.create({ kind: 't2i', prompt: 'a', seed: 1, modelName: 'm', images: [{ role: 'output', data: png }] });
  const file = store.assets.absolutePath(a.assets[0]!.asset);
  const inode = fs.statSync(file).ino;
  const b = store.generations.create({ kind: 't2i', prompt: 'b', seed: 1, modelName: 'm', images: [{ role: 'output', data: png }] });
  assert.equal(b.assets[0]!.asset.sha256, a.assets[0]!.asset.sha256);
  assert.equal(fs.statSync(file).ino, inode, 'the existing file was not rewritten');
  assert.deepEqual(imageFiles(dataDir), [a.assets[0]!.asset.path]);
  assert.equal(store.assets.put(png).sha256, sha256(png));
});

test('a damaged file under an asset name is replaced when the bytes are stored again', (t) => {
  const dataDir = tempDataDir(t);
  const store = openStore({ dataDir });
  t.after(() => store.close());
  const png = makePng(5, 5, 1);
  const asset = store.assets.put(png);
  const file = store.assets.absolutePath(asset);
  fs.writeFileSync(file, png.subarray(0, 10));
  store.assets.put(png);
  assert.equal(fileSha256(file), asset.sha256);
});

test('a file someone removed is written again when a new row names it', (t) => {
  const dataDir = tempDataDir(t);
  const store = openStore({ dataDir });
  t.after(() => store.close());
  const png = makePng(5, 5, 2);
  const asset = store.assets.put(png);
  fs.rmSync(store.assets.absolutePath(asset));
  const g = store.generations.create({ kind: 't2i', prompt: 'x', seed: 1, modelName: 'm', images: [{ role: 'output', data: png }] });
  assert.equal(fileSha256(store.assets.absolutePath(g.assets[0]!.asset)), asset.sha256);
});

test('mime is sniffed from the bytes and decides the extension', (t) => {
  const store = openStore({ dataDir: tempDataDir(t) });
  t.after(() => store.close());
  const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4]);
  const webp = new Uint8Array([...Buffer.from('RIFF'), 0, 0, 0, 0, ...Buffer.from('WEBPVP8 '), 9, 9]);
  assert.match(store.assets.put(jpeg).path, /\.jpg$/);
  assert.equal(store.assets.put(webp).mime, 'image/webp');
  const png = store.assets.put(makePng(7, 3, 3));
  assert.deepEqual([png.mime, png.width, png.height], ['image/png', 7, 3]);
  const given = store.assets.put(new Uint8Array([1, 2, 3]), { mime: 'image/jpeg', width: 10, height: 20 });
  assert.deepEqual([given.mime, given.width, given.height], ['image/jpeg', 10, 20]);
});

test('deleting a generation removes its files only when no other generation references them', (t) => {
  const dataDir = tempDataDir(t);
  const store = openStore({ dataDir });
  t.after(() => store.close());
  const shared = makePng(4, 4, 1);
  const own = makePng(4, 4, 2);
  const mask = makePng(4, 4, 3);
  const first = store.generations.create({
    kind: 'inpaint',
    prompt: 'first',
    seed: 1,
    modelName: 'm',
    images: [{ role: 'reference', data: shared }, { role: 'mask', data: mask }, { role: 'output', data: own }],
  });
  const second = store.generations.create({
    kind: 'edit',
    prompt: 'second',
    seed: 1,
    modelName: 'm',
    images: [{ role: 'reference', data: shared }],
  });
  const pathOf = (data: Uint8Array) => first.assets.find((a) => a.asset.sha256 === sha256(data))!.asset.path;
  assert.equal(imageFiles(dataDir).length, 3);

  const result = store.generations.delete(first.id);
  assert.equal(result.deleted, true);
  assert.deepEqual(result.removedFiles.sort(), [sha256(own), sha256(mask)].sort());
  assert.deepEqual(imageFiles(dataDir), [pathOf(shared)], 'the shared reference stays');
  assert.equal(store.assets.get(sha256(own)), null);
  assert.ok(store.assets.get(sha256(shared)));
  assert.equal(store.generations.get(second.id)!.assets[0]!.asset.sha256, sha256(shared));

  assert.deepEqual(store.generations.delete(second.id).removedFiles, [sha256(shared)]);
  assert.deepEqual(imageFiles(dataDir), []);
  assert.deepEqual(store.generations.delete(second.id), { deleted: false, removedFiles: [] });
});

test('a failed create leaves no row; its already-written file is collected as garbage later', (t) => {
  const dataDir = tempDataDir(t);
  const store = openStore({ dataDir });
  t.after(() => store.close());
  const png = makePng(6, 6, 4);
  assert.throws(
    () => store.generations.create({ kind: 't2i', prompt: 'x', seed: 1, modelName: 'm', parentId: 'missing', images: [{ role: 'output', data: png }] }),
    (error: unknown) => error instanceof StoreError && error.code === 'NOT_FOUND',
  );
  assert.equal(store.generations.list().items.length, 0);
  assert.equal(store.assets.get(sha256(png)), null, 'no asset row without its generation');
  assert.equal(imageFiles(dataDir).length, 1, 'the complete file stays until garbage collection');
  // Within the grace period nothing goes (another process could be about to commit a row for it).
  assert.deepEqual(store.assets.collectGarbage().removedFiles, []);
  const unreferenced = store.assets.put(makePng(6, 6, 5));
  const kept = store.generations.create({ kind: 't2i', prompt: 'k', seed: 1, modelName: 'm', images: [{ role: 'output', data: makePng(6, 6, 6) }] });
  const { removedFiles } = store.assets.collectGarbage({ graceMs: -1000 });
  assert.equal(removedFiles.length, 2);
  assert.ok(removedFiles.includes(unreferenced.path));
  assert.deepEqual(imageFiles(dataDir), [kept.assets[0]!.asset.path]);
  assert.equal(store.assets.get(unreferenced.sha256), null);
});

test('temp files of writers that died are removed at open; those of live writers are kept', (t) => {
  const dataDir = tempDataDir(t);
  openStore({ dataDir }).close();
  const shard = path.join(dataDir, 'images', 'ab');
  fs.mkdirSync(shard, { recursive: true });
  // A pid that certainly belonged to a process that has exited.
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
  const deadTemp = path.join(shard, `.tmp-${dead}-0123456789ab`);
  const liveTemp = path.join(shard, `.tmp-${process.ppid}-0123456789ab`);
  fs.writeFileSync(deadTemp, 'half of a png');
  fs.writeFileSync(liveTemp, 'being written by a live process');
  const store = openStore({ dataDir });
  t.after(() => store.close());
  assert.equal(fs.existsSync(deadTemp), false);
  assert.equal(fs.existsSync(liveTemp), true);
  assert.deepEqual(imageFiles(dataDir), [], 'temp files are never assets');
});
