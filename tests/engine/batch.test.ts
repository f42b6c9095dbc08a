// `atelier batch` end to end, as a real process on a real model bundle: 50 rows → 50 files whose
// manifest matches them and whose embedded parameters read back to the rows; kill -9 mid-batch and
// resume → 50 distinct files, no temp files, finished rows untouched; hostile prompts and templates
// stay inside the output folder; re-runs, --force, name collisions, JPEG/WebP and --zip.
// Model for the 50-row and kill tests: resources/models/atelier-nano when installed, else the fixture
// bundle (random weights); the tests about names, formats and row errors use the fixture (fast).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { readEmbedded } from '../../src-main/export/encode';
import { readZipEntries } from '../../src-main/export/zip';
import type { Manifest } from '../../src-main/export/manifest';
import { parseCsv } from '../../src-main/batch/csv';
import { openStore } from '../../src-main/store';
import type { LoraTarget } from '../../src-main/engine';
import { encodeLoraFile } from '../../src-main/trainer/lora-file';
import { FIXTURE_BUNDLE, gradientPng } from './helpers';

const root = fileURLToPath(new URL('../..', import.meta.url));
const NANO = path.join(root, 'resources/models/atelier-nano');
const MODEL = fs.existsSync(path.join(NANO, 'bundle.json')) ? NANO : FIXTURE_BUNDLE;
// The nano model is slower per step; keep the runtime of this file reasonable either way.
const STEPS = MODEL === NANO ? 2 : 3;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-batch-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const baseArgs = (data: string) => ['--model', MODEL, '--data', data, '--ep', 'cpu', '--threads', '1'];
/** The tests about names, formats and rows run on the small fixture bundle whatever model is installed. */
const fixtureArgs = (data: string) => ['--model', FIXTURE_BUNDLE, '--data', data, '--ep', 'cpu', '--threads', '1'];

function cli(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src-main/cli/index.ts', 'batch', ...args], { cwd: root, encoding: 'utf8' });
}

const sha = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** Every file under `dir`, relative, forward slashes. */
function walk(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(full).map((f) => `${e.name}/${f}`));
    else out.push(e.name);
  }
  return out.sort();
}

const images = (dir: string) => walk(dir).filter((f) => /\.(png|jpg|webp)$/.test(f));

function fiftyRows(): { prompt: string; seed: number; steps: number; cfg: number }[] {
  const subjects = ['apple', 'boat', 'cat', 'dog', 'egg', 'fox', 'goat', 'hat', 'ink pot', 'jar'];
  return Array.from({ length: 50 }, (_, i) => ({ prompt: `a ${['red', 'blue', 'green', 'white', 'black'][i % 5]} ${subjects[i % 10]}, number ${i}`, seed: 1000 + i, steps: STEPS + (i % 2), cfg: 1 + (i % 3) }));
}

/** The manifest matches the folder: one done item per image file, same sha256 and size. */
function checkManifest(out: string, expectDone: number): Manifest {
  const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')) as Manifest;
  const done = manifest.items.filter((i) => i.status === 'done');
  assert.equal(done.length, expectDone);
  assert.deepEqual(done.map((i) => i.file).sort(), images(out));
  for (const item of done) {
    const file = path.join(out, item.file!);
    assert.equal(sha(file), item.sha256, `sha256 of ${item.file}`);
    assert.equal(fs.statSync(file).size, item.bytes);
  }
  const csv = parseCsv(fs.readFileSync(path.join(out, 'manifest.csv'), 'utf8'));
  assert.equal(csv.length, manifest.items.length + 1);
  const col = csv[0]!.fields.indexOf('sha256');
  assert.deepEqual(csv.slice(1).map((r) => r.fields[col] || null), manifest.items.map((i) => i.sha256));
  return manifest;
}

test(`50 rows → 50 files, a manifest that matches them, parameters that read back (model: ${path.basename(MODEL)})`, async () => {
  const data = path.join(tmp, 'data-50');
  const out = path.join(tmp, 'out-50');
  const rows = fiftyRows();
  const list = path.join(tmp, 'fifty.jsonl');
  fs.writeFileSync(list, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const r = cli([list, '--out', out, ...baseArgs(data)]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /50 of 50 done/);
  assert.equal(images(out).length, 50);
  const manifest = checkManifest(out, 50);
  for (const [i, row] of rows.entries()) {
    const item = manifest.items[i]!;
    assert.equal(item.prompt, row.prompt);
    const back = readEmbedded(fs.readFileSync(path.join(out, item.file!)));
    assert.equal(back.atelier!.prompt, row.prompt);
    assert.equal(back.atelier!.seed, row.seed);
    assert.equal(back.atelier!.steps, row.steps);
    assert.equal(back.atelier!.cfg_scale, row.cfg);
    // The A1111 text, through the A1111 parser.
    assert.equal(back.parameters!.prompt, row.prompt);
    assert.equal(back.parameters!.params['Seed'], String(row.seed));
    assert.equal(back.parameters!.params['Steps'], String(row.steps));
    assert.equal(back.parameters!.params['CFG scale'], String(row.cfg));
  }
  assert.equal(new Set(manifest.items.map((i) => i.sha256)).size, 50, 'different seeds and prompts, different images');

  // Same command again: nothing to do, nothing rewritten.
  const mtimes = images(out).map((f) => fs.statSync(path.join(out, f)).mtimeMs);
  const again = cli([list, '--out', out, ...baseArgs(data)]);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /already finished: 50 images .* Nothing to do/);
  assert.deepEqual(images(out).map((f) => fs.statSync(path.join(out, f)).mtimeMs), mtimes);

  // A deleted file is made again on the next run, under its name; the others stay as they are.
  const victim = manifest.items[7]!.file!;
  fs.rmSync(path.join(out, victim));
  const healed = cli([list, '--out', out, ...baseArgs(data)]);
  assert.equal(healed.status, 0, healed.stderr);
  assert.match(healed.stderr, /1 finished file is missing or changed .*: making it again/);
  assert.equal(images(out).length, 50);
  assert.ok(fs.existsSync(path.join(out, victim)));
  assert.deepEqual(images(out).filter((f) => f !== victim).map((f) => fs.statSync(path.join(out, f)).mtimeMs), mtimes.filter((_, i) => images(out)[i] !== victim));
  checkManifest(out, 50);

  // --force runs it again into the same names (no -2 copies), with the same pixels (the files
  // differ only in their creation time inside the metadata).
  const pixels = (file: string) => sharp(path.join(out, file)).raw().toBuffer();
  const firstPixels = await Promise.all(manifest.items.slice(0, 5).map((i) => pixels(i.file!)));
  const forced = cli([list, '--out', out, '--force', ...baseArgs(data)]);
  assert.equal(forced.status, 0, forced.stderr);
  assert.equal(images(out).length, 50);
  const reforced = checkManifest(out, 50);
  assert.deepEqual(reforced.items.map((i) => i.file), manifest.items.map((i) => i.file));
  for (const [i, item] of reforced.items.slice(0, 5).entries()) assert.ok((await pixels(item.file!)).equals(firstPixels[i]!));
});

test('kill -9 at about row 20, then resume: 50 distinct files, no temp files, finished rows untouched', async () => {
  const data = path.join(tmp, 'data-kill');
  const out = path.join(tmp, 'out-kill');
  const list = path.join(tmp, 'kill.csv');
  // Many steps so that row 20 is reached well after start-up and the kill lands mid-batch.
  const heavy = MODEL === NANO ? 4 : 60;
  fs.writeFileSync(list, 'prompt,seed\n' + Array.from({ length: 50 }, (_, i) => `"row ${i}, a small house",${i}`).join('\n') + '\n');
  const args = ['--import', 'tsx', 'src-main/cli/index.ts', 'batch', list, '--out', out, '--steps', String(heavy), ...baseArgs(data)];
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  let killedAt = -1;
  await new Promise<void>((resolve) => {
    let text = '';
    child.stderr.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const m = [...text.matchAll(/^\[(\d+)\/50\]/gm)].pop();
      if (m && Number(m[1]) >= 20 && killedAt < 0) {
        killedAt = Number(m[1]);
        child.kill('SIGKILL');
      }
    });
    child.on('exit', () => resolve());
  });
  assert.ok(killedAt >= 20, 'the batch was killed mid-way');
  assert.equal(child.signalCode, 'SIGKILL');

  // What the store says is done is on disk, complete; nothing else under a real name.
  const store = openStore({ dataDir: data });
  const batch = store.batches.list()[0]!;
  const doneRows = store.batches.rows(batch.id, 'done');
  store.close();
  // Rows are committed in groups (every 250 ms), so the store may lag the files on disk by a few
  // rows: those are made again into the same names on resume.
  assert.ok(images(out).length >= 20, `${images(out).length} files at the kill`);
  assert.ok(doneRows.length >= 1 && doneRows.length < 50, `${doneRows.length} rows done at the kill`);
  const before = new Map(doneRows.map((r) => [r.outputPath!, { sha: r.sha256!, mtime: fs.statSync(path.join(out, r.outputPath!)).mtimeMs }]));
  for (const [file, { sha: want }] of before) assert.equal(sha(path.join(out, file)), want);

  const resumed = cli([list, '--out', out, '--steps', String(heavy), ...baseArgs(data)]);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stderr, new RegExp(`resuming batch ${batch.id}: ${doneRows.length} of 50 done`));
  const files = images(out);
  assert.equal(files.length, 50);
  assert.equal(new Set(files.map((f) => sha(path.join(out, f)))).size, 50, '50 distinct images');
  assert.deepEqual(walk(out).filter((f) => f.includes('.atelier-tmp-')), []);
  assert.ok(!files.some((f) => /-\d+\.png$/.test(f.replace(/^\d+-/, ''))), 'no suffixed duplicates');
  for (const [file, { sha: want, mtime }] of before) {
    assert.equal(sha(path.join(out, file)), want);
    assert.equal(fs.statSync(path.join(out, file)).mtimeMs, mtime, `${file} was not rewritten`);
  }
  checkManifest(out, 50);
});

test('hostile prompts and templates stay inside the output folder; bad rows are reported, the rest go on', () => {
  const data = path.join(tmp, 'data-hostile');
  const cage = path.join(tmp, 'cage');
  const out = path.join(cage, 'out');
  fs.mkdirSync(cage);
  const prompts = ['../../x', '..\\..\\y', '/etc/passwd', 'con', 'NUL', 'aux.txt', 'a\u0000b', 'x'.repeat(3000), '猫'.repeat(1000), '   ...   ', 'name\ttab', '\u202egnp.exe'];
  const list = path.join(tmp, 'hostile.jsonl');
  fs.writeFileSync(list, prompts.map((prompt, i) => JSON.stringify({ prompt, seed: i })).join('\n') + '\n');
  const templates = ['{prompt-slug}', '../../{prompt-slug}', '/{index}/../../{seed}', 'C:\\{model}\\..\\{index}', '{prompt-slug}{prompt-slug}{prompt-slug}{prompt-slug}', '..'];
  for (const [t, template] of templates.entries()) {
    const dir = path.join(out, String(t));
    const r = cli([list, '--out', dir, '--template', template, '--steps', '2', ...fixtureArgs(data)]);
    // Row 7 has a NUL in its prompt: reported as a failed row, the others go on.
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /line 7 \(row 7\) failed: the prompt holds control characters/);
    assert.match(r.stderr, /1 of 12 rows failed/);
    const files = images(dir);
    assert.equal(files.length, 11, `${template}: ${files.join(' | ')}`);
    for (const f of files) {
      for (const segment of f.split('/')) {
        assert.ok(Buffer.byteLength(segment) <= 200, `${segment.length} chars`);
        assert.ok(!/^(con|nul|aux|prn)(\.|$)/i.test(segment), segment);
        assert.ok(!segment.startsWith('.'), segment);
      }
    }
  }
  // Nothing was written outside the output folder.
  assert.deepEqual(fs.readdirSync(cage), ['out']);
  assert.deepEqual(fs.readdirSync(tmp).filter((f) => !/^(data-|out-|cage$|fifty|kill|hostile|formats|edit|clash)/.test(f)), []);
});

test('JPEG and WebP with --zip; an existing file is never overwritten without --overwrite', () => {
  const data = path.join(tmp, 'data-formats');
  const list = path.join(tmp, 'formats.csv');
  fs.writeFileSync(list, 'prompt,seed,cfg\n"a cat, sleeping",1,2\n"a cat, sleeping",2,2\nunicode 猫 ü,3,1.5\n');
  for (const format of ['jpeg', 'webp'] as const) {
    const out = path.join(tmp, `out-${format}`);
    fs.mkdirSync(out);
    // Files of the user's in the way of row 1's name and (WebP) of the zip's.
    fs.writeFileSync(path.join(out, '1-a-cat-sleeping.' + (format === 'jpeg' ? 'jpg' : 'webp')), 'mine');
    if (format === 'webp') fs.writeFileSync(path.join(out, 'out-webp.zip'), 'my zip');
    const r = cli([list, '--out', out, '--format', format, '--template', '{seed}-{prompt-slug}', '--zip', '--steps', '2', ...fixtureArgs(data)]);
    assert.equal(r.status, 0, r.stderr);
    const ext = format === 'jpeg' ? 'jpg' : 'webp';
    assert.deepEqual(images(out), [`1-a-cat-sleeping-2.${ext}`, `1-a-cat-sleeping.${ext}`, `2-a-cat-sleeping.${ext}`, `3-unicode-猫-ü.${ext}`]);
    assert.equal(fs.readFileSync(path.join(out, `1-a-cat-sleeping.${ext}`), 'utf8'), 'mine');
    const manifest = checkManifestFiles(out, 3);
    const back = readEmbedded(fs.readFileSync(path.join(out, `3-unicode-猫-ü.${ext}`)));
    assert.equal(back.format, format);
    assert.equal(back.parameters!.prompt, 'unicode 猫 ü');
    assert.equal(back.parameters!.params['CFG scale'], '1.5');
    assert.equal(back.atelier!.seed, 3);
    const zipName = format === 'webp' ? 'out-webp-2.zip' : 'out-jpeg.zip';
    if (format === 'webp') assert.equal(fs.readFileSync(path.join(out, 'out-webp.zip'), 'utf8'), 'my zip');
    const zip = readZipEntries(fs.readFileSync(path.join(out, zipName)));
    assert.deepEqual(zip.map((e) => e.name).sort(), [...manifest.map((i) => i.file!), 'manifest.csv', 'manifest.json'].sort());
    for (const e of zip.filter((z) => z.method === 0)) assert.equal(createHash('sha256').update(e.data).digest('hex'), sha(path.join(out, e.name)));
  }
});

/** Like checkManifest, for a folder that also holds a file of the user's. */
function checkManifestFiles(out: string, expectDone: number) {
  const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')) as Manifest;
  const done = manifest.items.filter((i) => i.status === 'done');
  assert.equal(done.length, expectDone);
  for (const item of done) assert.equal(sha(path.join(out, item.file!)), item.sha256);
  return done;
}

test('edit rows take a source image and LoRA rows a LoRA file next to the list or installed in the studio; a row that cannot run fails alone', async () => {
  const data = path.join(tmp, 'data-edit');
  const out = path.join(tmp, 'out-edit');
  const folder = path.join(tmp, 'edit-list');
  fs.mkdirSync(folder);
  fs.writeFileSync(path.join(folder, 'src.png'), await gradientPng(40, 40));
  // A random LoRA for the fixture's LoRA targets, written as the trainer writes them.
  const manifest = JSON.parse(fs.readFileSync(path.join(FIXTURE_BUNDLE, 'bundle.json'), 'utf8')) as { lora?: { targets: LoraTarget[] } };
  const targets = manifest.lora!.targets;
  let s = 9;
  const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32 - 0.5);
  const weights = { rank: 2, alpha: 2, down: targets.map((t) => Float32Array.from({ length: 2 * t.in }, rnd)), up: targets.map((t) => Float32Array.from({ length: t.out * 2 }, rnd)) };
  fs.writeFileSync(path.join(folder, 'style.safetensors'), encodeLoraFile(targets, { weights, metadata: {} }));
  // The same LoRA installed in the studio's LoRA folder under another name: a row may name it.
  fs.mkdirSync(path.join(data, 'loras'), { recursive: true });
  fs.writeFileSync(path.join(data, 'loras', 'House Style.safetensors'), encodeLoraFile(targets, { weights, metadata: {} }));
  const rows = [
    { image: 'src.png', instruction: 'make it blue', seed: 5 },
    { prompt: 'a tree', size: '999x999', seed: 6 },
    { prompt: 'a tree', seed: 7, loras: ['style:0.5'] },
    { prompt: 'a tree', seed: 7 },
    { prompt: 'a tree', seed: 7, loras: ['missing:1'] },
    { prompt: 'a tree', seed: 7, loras: ['house style:0.5'] },
  ];
  fs.writeFileSync(path.join(folder, 'edits.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n'));
  // The fixture bundle has LoRA graphs (the nano model has none yet).
  const r = cli([path.join(folder, 'edits.jsonl'), '--out', out, '--steps', '2', ...fixtureArgs(data)]);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /line 2 \(row 2\) failed: size 999x999 is not what model \S+ makes/);
  assert.match(r.stderr, /line 5 \(row 5\) failed: LoRA 'missing' is neither a file \(.*missing\) nor a LoRA installed in the studio/);
  assert.match(r.stderr, /2 of 6 rows failed/);
  const list = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')) as Manifest;
  assert.deepEqual(list.items.map((i) => [i.status, i.mode, i.loras]), [
    ['done', 'edit', null], ['failed', 'text-to-image', null], ['done', 'text-to-image', 'style:0.5'], ['done', 'text-to-image', null], ['failed', 'text-to-image', 'missing:1'],
    ['done', 'text-to-image', 'house style:0.5'],
  ]);
  const edit = readEmbedded(fs.readFileSync(path.join(out, list.items[0]!.file!)));
  assert.equal(edit.atelier!.mode, 'edit');
  assert.equal(edit.atelier!.prompt, 'make it blue');
  assert.ok(edit.atelier!.parent?.sha256, 'the source image is recorded as the parent');
  // The LoRA was applied: same prompt and seed, different pixels, and the image says which LoRA.
  const withLora = readEmbedded(fs.readFileSync(path.join(out, list.items[2]!.file!)));
  assert.deepEqual(withLora.atelier!.loras?.map((l) => [l.name, l.weight]), [['style.safetensors', 0.5]]);
  assert.match(withLora.parameters!.params['LoRAs'] ?? '', /style.safetensors: 0.5/);
  const [a, b] = await Promise.all([2, 3].map((i) => sharp(path.join(out, list.items[i]!.file!)).raw().toBuffer()));
  assert.ok(!a!.equals(b!), 'the LoRA changed the image');
  // The installed LoRA is found by its name (any case), recorded under it, and has the same effect.
  const installed = readEmbedded(fs.readFileSync(path.join(out, list.items[5]!.file!)));
  assert.deepEqual(installed.atelier!.loras?.map((l) => [l.name, l.weight]), [['House Style', 0.5]]);
  const c = await sharp(path.join(out, list.items[5]!.file!)).raw().toBuffer();
  assert.ok(c.equals(a!), 'same LoRA, prompt and seed: same pixels');
});

test('usage errors: no list, no --out, bad template, bad format', () => {
  const data = path.join(tmp, 'data-usage');
  const list = path.join(tmp, 'fifty.jsonl');
  const r1 = cli([path.join(tmp, 'nope.csv'), '--out', tmp, ...baseArgs(data)]);
  assert.equal(r1.status, 1);
  assert.match(r1.stderr, /the prompt list .* does not exist/);
  const r2 = cli([list, ...baseArgs(data)]);
  assert.equal(r2.status, 2);
  assert.match(r2.stderr, /needs --out DIR/);
  const r3 = cli([list, '--out', path.join(tmp, 'x'), '--template', '{nope}', ...baseArgs(data)]);
  assert.equal(r3.status, 2);
  assert.match(r3.stderr, /unknown placeholder \{nope\}/);
  const r4 = cli([list, '--out', path.join(tmp, 'x'), '--format', 'gif', ...baseArgs(data)]);
  assert.equal(r4.status, 2);
  assert.match(r4.stderr, /--format must be one of png, jpeg, webp/);
  assert.ok(!fs.existsSync(path.join(tmp, 'x')));
});
