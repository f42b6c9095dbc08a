// Exported files: PNG, JPEG and WebP with the A1111 text and Atelier's JSON inside, read back by our
// reader, by libvips (sharp) and by Pillow; the zip writer read back by Info-ZIP and Python's zipfile.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inflateRawSync, crc32 } from 'node:zlib';
import sharp from 'sharp';
import { encodeForExport, readEmbedded } from '../../../src-main/export/encode';
import { buildExif, MAX_JPEG_EXIF_BYTES, parseExif } from '../../../src-main/export/exif';
import { readZipEntries, writeZip } from '../../../src-main/export/zip';
import { csvField, manifestCsv, makeManifest, writeManifest } from '../../../src-main/export/manifest';
import { parseCsv } from '../../../src-main/batch/csv';
import { formatA1111 } from '../../../src-main/engine';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-formats-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
const PYTHON = path.resolve('.venv/bin/python');
const hasPython = fs.existsSync(PYTHON);

async function samplePng(): Promise<Uint8Array> {
  const raw = Buffer.alloc(24 * 16 * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 37) % 256;
  return new Uint8Array(await sharp(raw, { raw: { width: 24, height: 16, channels: 3 } }).png().toBuffer());
}

const prompt = 'a cat on a mat, ünïcode 猫 😀\nsecond line: "quoted"';
const parameters = formatA1111({ prompt, negativePrompt: '', params: { Steps: '4', Sampler: 'euler', 'CFG scale': '2.5', Seed: '42', Size: '24x16', Model: 'atelier-nano' } });
const atelier = JSON.stringify({ app: 'atelier', prompt, seed: 42, steps: 4 });

for (const format of ['png', 'jpeg', 'webp'] as const) {
  test(`${format}: parameters and JSON read back, by us and by libvips`, async () => {
    const encoded = await encodeForExport(await samplePng(), format, { parameters, atelier }, { software: 'Atelier test' });
    const back = readEmbedded(encoded.bytes);
    assert.equal(back.format, format);
    assert.equal(back.text.parameters, parameters);
    assert.equal(back.text.atelier, atelier);
    assert.equal(back.parameters!.prompt, prompt);
    assert.deepEqual(back.parameters!.params, { Steps: '4', Sampler: 'euler', 'CFG scale': '2.5', Seed: '42', Size: '24x16', Model: 'atelier-nano' });
    assert.equal(back.atelier!.seed, 42);
    assert.equal(encoded.atelierEmbedded, true);
    const meta = await sharp(encoded.bytes).metadata();
    assert.equal(meta.format, format);
    assert.deepEqual([meta.width, meta.height], [24, 16]);
    if (format !== 'png') {
      assert.ok(meta.exif, 'libvips sees the EXIF block');
      assert.equal(parseExif(meta.exif!).userComment, parameters);
    }
    fs.writeFileSync(path.join(dir, `sample.${format}`), encoded.bytes);
  });
}

test('Pillow reads the UTF-16 UserComment of JPEG and WebP exports (what A1111 readers do)', { skip: !hasPython && 'no .venv python' }, () => {
  const script = `
import sys, json
from PIL import Image
out = {}
for f in sys.argv[1:]:
    im = Image.open(f)
    im.load()
    uc = im.getexif().get_ifd(0x8769).get(0x9286)
    out[f.rsplit('.', 1)[1]] = [uc[:8].decode('ascii'), uc[8:].decode('utf-16-be'), list(im.size)]
print(json.dumps(out))`;
  const r = spawnSync(PYTHON, ['-c', script, path.join(dir, 'sample.jpeg'), path.join(dir, 'sample.webp')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const got = JSON.parse(r.stdout) as Record<string, [string, string, number[]]>;
  for (const f of ['jpeg', 'webp']) assert.deepEqual(got[f], ['UNICODE\u0000', parameters, [24, 16]]);
});

test('a JSON too big for JPEG EXIF is left out, the A1111 text kept; PNG re-export keeps pixels', async () => {
  const big = JSON.stringify({ app: 'atelier', filler: 'x'.repeat(70_000) });
  const encoded = await encodeForExport(await samplePng(), 'jpeg', { parameters, atelier: big });
  assert.equal(encoded.atelierEmbedded, false);
  assert.equal(readEmbedded(encoded.bytes).text.parameters, parameters);
  assert.equal(readEmbedded(encoded.bytes).text.atelier, null);
  assert.throws(() => buildExif({ userComment: 'y'.repeat(40_000), atelierJson: null }, MAX_JPEG_EXIF_BYTES), /more than the 65527/);
  const webp = await encodeForExport(await samplePng(), 'webp', { parameters, atelier: big });
  assert.equal(readEmbedded(webp.bytes).text.atelier, big, 'WebP has no 64 KB limit');
  const png = await samplePng();
  const again = await encodeForExport(png, 'png', { parameters, atelier });
  const [a, b] = await Promise.all([sharp(png).raw().toBuffer(), sharp(again.bytes).raw().toBuffer()]);
  assert.ok(a.equals(b));
});

test('zip: stored and deflated entries with UTF-8 names, checked by unzip -t, zipfile and our reader', () => {
  const files = { 'images/0001-猫.png': fs.readFileSync(path.join(dir, 'sample.png')), 'manifest.csv': Buffer.from('index,file\n1,a\n'.repeat(50)) };
  const zipPath = path.join(dir, 'out.zip');
  writeZip(zipPath, [
    { name: 'images/0001-猫.png', data: files['images/0001-猫.png'] },
    { name: 'manifest.csv', data: files['manifest.csv'], deflate: true },
  ]);
  const bytes = fs.readFileSync(zipPath);
  const entries = readZipEntries(bytes);
  assert.deepEqual(entries.map((e) => [e.name, e.method]), [['images/0001-猫.png', 0], ['manifest.csv', 8]]);
  assert.ok(Buffer.from(entries[0]!.data).equals(files['images/0001-猫.png']));
  assert.ok(inflateRawSync(entries[1]!.data).equals(files['manifest.csv']));
  assert.equal(entries[1]!.crc32, crc32(files['manifest.csv']));
  const unzip = spawnSync('unzip', ['-t', zipPath], { encoding: 'utf8' });
  if (!unzip.error) assert.match(unzip.stdout, /No errors detected/);
  if (hasPython) {
    const py = spawnSync(PYTHON, ['-c', 'import sys, zipfile, json; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print(json.dumps({i.filename: i.file_size for i in z.infolist()}))', zipPath], { encoding: 'utf8' });
    assert.equal(py.status, 0, py.stderr);
    assert.deepEqual(JSON.parse(py.stdout), { 'images/0001-猫.png': files['images/0001-猫.png'].length, 'manifest.csv': files['manifest.csv'].length });
  }
  assert.throws(() => writeZip(path.join(dir, 'bad.zip'), [{ name: '../evil', data: Buffer.from('x') }]), /without '\.\.'/);
  assert.ok(!fs.readdirSync(dir).some((f) => f.startsWith('.atelier-tmp-')), 'no temp file left by the refused zip');
});

test('manifest CSV reads back through a CSV parser; formula-like cells are guarded; a foreign manifest.json is kept', () => {
  const items = [
    { index: 1, status: 'done' as const, file: 'a.png', sha256: createHash('sha256').update('a').digest('hex'), bytes: 1, format: 'png', width: 32, height: 32, prompt: 'commas, "quotes"\nand lines', seed: 1, steps: 2, cfg: 3, model: 'm', mode: 'text-to-image', loras: 'style:0.5', generationId: null, error: null },
    { index: 2, status: 'failed' as const, file: null, sha256: null, bytes: null, format: null, width: null, height: null, prompt: '=HYPERLINK("x")', seed: null, steps: null, cfg: null, model: null, mode: null, loras: null, generationId: null, error: 'seed must be a whole number' },
  ];
  const rows = parseCsv(manifestCsv(items));
  assert.equal(rows[1]!.fields[8], 'commas, "quotes"\nand lines');
  assert.equal(rows[2]!.fields[8], `'=HYPERLINK("x")`);
  assert.equal(csvField(-3), '-3');
  const out = fs.mkdtempSync(path.join(dir, 'm-'));
  fs.writeFileSync(path.join(out, 'manifest.json'), '{"mine": true}');
  const written = writeManifest(out, makeManifest('export', items));
  assert.equal(path.basename(written.json), 'atelier-manifest.json');
  assert.equal(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8'), '{"mine": true}');
  const again = writeManifest(out, makeManifest('export', items.slice(0, 1)));
  assert.equal(again.json, written.json);
});
