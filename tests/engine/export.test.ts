// `atelier export`: history items (made by the engine on the fixture bundle, plus one imported
// image with no parameters inside) to PNG/JPEG/WebP files with their parameters embedded, a
// manifest that matches, a zip; nothing overwritten without --overwrite; selections by id and text.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { main } from '../../src-main/cli/index';
import { loadBundle } from '../../src-main/engine';
import { readEmbedded } from '../../src-main/export/encode';
import { readZipEntries } from '../../src-main/export/zip';
import type { Manifest } from '../../src-main/export/manifest';
import { openStore } from '../../src-main/store';
import { FIXTURE_BUNDLE } from './helpers';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-export-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const data = path.join(tmp, 'data');
const quiet = () => undefined;

async function fillHistory(): Promise<string[]> {
  const store = openStore({ dataDir: data });
  const engine = await loadBundle(FIXTURE_BUNDLE, { executionProvider: 'cpu', threads: 1 });
  const ids: string[] = [];
  try {
    for (const [i, prompt] of ['a lighthouse, at night', 'ünïcode 猫 garden', 'a lighthouse, at dawn'].entries()) {
      const r = await engine.textToImage({ prompt, seed: 40 + i, steps: 2, cfgScale: 1.5 });
      const img = r.images[0]!;
      ids.push(store.generations.create({
        kind: 't2i', prompt, seed: img.seed, modelName: engine.manifest.name, modelHash: engine.bundle.hash,
        params: { steps: 2, cfg: 1.5, width: img.image.width, height: img.image.height, metadata: img.metadata },
        images: [{ role: 'output', data: img.png, width: img.image.width, height: img.image.height }],
      }).id);
    }
    // An imported image: plain pixels, no parameters inside; the export writes them from the record.
    const plain = await sharp({ create: { width: 20, height: 20, channels: 3, background: '#808080' } }).png().toBuffer();
    ids.push(store.generations.create({
      kind: 't2i', prompt: 'imported grey square', seed: 7, modelName: 'elsewhere', params: { steps: 30, cfg: 7 },
      images: [{ role: 'output', data: new Uint8Array(plain), width: 20, height: 20 }],
    }).id);
  } finally {
    await engine.dispose();
    store.close();
  }
  return ids;
}

const sha = (f: string) => createHash('sha256').update(fs.readFileSync(f)).digest('hex');

test('export --all as WebP with a zip; --ids and --search select; no overwrite without asking', async () => {
  const ids = await fillHistory();
  const out = path.join(tmp, 'out');
  await main(['export', '--all', '--out', out, '--format', 'webp', '--template', '{seed}-{prompt-slug}', '--zip', '--data', data, '--quiet'], quiet);
  const files = fs.readdirSync(out).filter((f) => f.endsWith('.webp')).sort();
  assert.deepEqual(files, ['40-a-lighthouse-at-night.webp', '41-ünïcode-猫-garden.webp', '42-a-lighthouse-at-dawn.webp', '7-imported-grey-square.webp']);
  const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')) as Manifest;
  assert.equal(manifest.kind, 'export');
  assert.equal(manifest.items.length, 4);
  for (const item of manifest.items) assert.equal(sha(path.join(out, item.file!)), item.sha256);
  const garden = readEmbedded(fs.readFileSync(path.join(out, '41-ünïcode-猫-garden.webp')));
  assert.equal(garden.parameters!.prompt, 'ünïcode 猫 garden');
  assert.equal(garden.parameters!.params['Seed'], '41');
  assert.equal(garden.atelier!.cfg_scale, 1.5);
  const imported = readEmbedded(fs.readFileSync(path.join(out, '7-imported-grey-square.webp')));
  assert.equal(imported.parameters!.prompt, 'imported grey square');
  assert.deepEqual([imported.parameters!.params['Steps'], imported.parameters!.params['CFG scale'], imported.parameters!.params['Model']], ['30', '7', 'elsewhere']);
  assert.equal(imported.atelier, null);
  const zipName = fs.readdirSync(out).find((f) => f.endsWith('.zip'))!;
  assert.deepEqual(readZipEntries(fs.readFileSync(path.join(out, zipName))).map((e) => e.name).sort(), [...files, 'manifest.csv', 'manifest.json'].sort());

  // Again into the same folder: new names, the first files untouched.
  const before = files.map((f) => sha(path.join(out, f)));
  await main(['export', '--ids', `${ids[0]},${ids[2]}`, '--out', out, '--format', 'webp', '--template', '{seed}-{prompt-slug}', '--data', data, '--quiet'], quiet);
  assert.ok(fs.existsSync(path.join(out, '40-a-lighthouse-at-night-2.webp')) && fs.existsSync(path.join(out, '42-a-lighthouse-at-dawn-2.webp')));
  assert.deepEqual(files.map((f) => sha(path.join(out, f))), before);
  // --overwrite replaces instead.
  await main(['export', '--search', 'lighthouse', '--out', out, '--format', 'webp', '--template', '{seed}-{prompt-slug}', '--overwrite', '--data', data, '--quiet'], quiet);
  assert.equal(fs.readdirSync(out).filter((f) => f.endsWith('.webp')).length, 6);
  const last = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')) as Manifest;
  assert.deepEqual(last.items.map((i) => i.file).sort(), ['40-a-lighthouse-at-night.webp', '42-a-lighthouse-at-dawn.webp']);

  // PNG export keeps the engine's text chunks; the pixels are the history's own.
  const pngOut = path.join(tmp, 'png');
  await main(['export', '--ids', ids[1]!, '--out', pngOut, '--data', data, '--quiet'], quiet);
  const png = fs.readdirSync(pngOut).find((f) => f.endsWith('.png'))!;
  assert.equal(png, '0001-ünïcode-猫-garden.png');
  assert.equal(readEmbedded(fs.readFileSync(path.join(pngOut, png))).atelier!.seed, 41);
});

test('export usage errors say what is missing', async () => {
  await assert.rejects(main(['export', '--out', tmp, '--data', data], quiet), /say what to export/);
  await assert.rejects(main(['export', '--all', '--data', data], quiet), /needs --out DIR/);
  await assert.rejects(main(['export', '--all', '--out', tmp, '--format', 'bmp', '--data', data], quiet), /--format must be one of/);
  await assert.rejects(main(['export', '--ids', '3f2c1a9e-5b7d-4c2e-9f1a-0b6d8e4c2a71', '--out', tmp, '--data', data], quiet), /no history item/);
});
