// A1111 `parameters` text and PNG text chunks: writing, reading back, and what other tools write.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32 as zlibCrc32, inflateSync } from 'node:zlib';
import sharp from 'sharp';
import fc from 'fast-check';
import { formatA1111, parseA1111 } from '../../../src-main/engine/image/a1111';
import { crc32, readChunks, readTextChunks, withTextChunks } from '../../../src-main/engine/image/png-chunks';
import { addMetadata, readMetadata } from '../../../src-main/engine/image/metadata';
import type { AtelierMetadata } from '../../../src-main/engine/image/metadata';

test('parses a typical A1111 block with a multi-line prompt and negative prompt', () => {
  const text = [
    'a cat on a mat,',
    'best quality',
    'Negative prompt: blurry, lowres',
    'ugly',
    'Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 965400086, Size: 512x512, Model hash: 45dee52b, Model: v1-5, Lora hashes: "x: 1a2b, y: 3c4d"',
  ].join('\n');
  const p = parseA1111(text);
  assert.equal(p.prompt, 'a cat on a mat,\nbest quality');
  assert.equal(p.negativePrompt, 'blurry, lowres\nugly');
  assert.equal(p.params['Seed'], '965400086');
  assert.equal(p.params['Sampler'], 'Euler a');
  assert.equal(p.params['Lora hashes'], 'x: 1a2b, y: 3c4d');
  assert.equal(Object.keys(p.params).length, 8);
});

test('a last line with fewer than 3 pairs is part of the prompt', () => {
  const p = parseA1111('portrait\nstyle: oil, mood: calm');
  assert.equal(p.prompt, 'portrait\nstyle: oil, mood: calm');
  assert.deepEqual(p.params, {});
});

test('format → parse round-trips arbitrary prompts and values', () => {
  const key = fc.constantFrom('Steps', 'Seed', 'Model', 'Note', 'CFG scale', 'Version');
  fc.assert(
    fc.property(
      fc.string({ minLength: 1 }).filter((s) => !s.includes('\r') && !/(^|\n)Negative prompt:/.test(s)),
      fc.string().filter((s) => !s.includes('\r') && !/(^|\n)Negative prompt:/.test(s)),
      fc.dictionary(key, fc.string({ minLength: 1 }).filter((s) => s.trim() === s && !s.includes('\r')), { minKeys: 3 }),
      (prompt, negative, params) => {
        const text = formatA1111({ prompt, negativePrompt: negative, params });
        // A prompt whose own last line looks like parameters is ambiguous in this format; skip those.
        fc.pre(!/:/.test(prompt.split('\n').pop()!) || negative !== '');
        const back = parseA1111(text);
        assert.equal(back.prompt, prompt);
        assert.equal(back.negativePrompt, negative);
        assert.deepEqual(back.params, { ...params });
      },
    ),
    { numRuns: 300 },
  );
});

test('values holding , : or newlines are written as JSON strings', () => {
  const text = formatA1111({ prompt: 'p', negativePrompt: '', params: { A: '1', B: 'x, y', C: 'k: v', D: 'two\nlines' } });
  assert.equal(text.split('\n').length, 2);
  assert.match(text, /B: "x, y", C: "k: v", D: "two\\nlines"/);
});

test('crc32 matches zlib', () => {
  const bytes = new TextEncoder().encode('IEND and some text ☃');
  assert.equal(crc32(bytes), zlibCrc32(bytes));
});

async function tinyPng(): Promise<Uint8Array> {
  return new Uint8Array(await sharp({ create: { width: 4, height: 3, channels: 3, background: '#3366cc' } }).png().toBuffer());
}

const meta: AtelierMetadata = {
  app: 'atelier',
  engine_version: '0.1.0',
  mode: 'edit',
  prompt: 'a red apple,\n"quoted" — ☃ 🍎',
  seed: 4294967295,
  batch_index: 0,
  steps: 20,
  cfg_scale: 3.5,
  sampler: 'Euler',
  shift: 3,
  ar: { temperature: 1, top_k: 0, top_p: 0.95, cfg_scale: 1 },
  width: 4,
  height: 3,
  model: { name: 'atelier-nano', variant: 'nano', hash: 'ab'.repeat(32) },
  execution_provider: 'cpu',
  parent: { sha256: 'cd'.repeat(32), id: 'gen_1' },
  warnings: ['prompt truncated'],
  created: '2026-11-26T10:00:00.000Z',
};

test('PNG metadata round-trips; the image still decodes and chunk CRCs are valid', async () => {
  const png = addMetadata(await tinyPng(), meta);
  const back = readMetadata(png);
  assert.deepEqual(back.atelier, meta);
  assert.equal(back.parameters!.prompt, meta.prompt);
  assert.equal(back.parameters!.params['Seed'], '4294967295');
  assert.equal(back.parameters!.params['Model hash'], 'abababababab'.slice(0, 10));
  assert.equal(back.parameters!.params['Atelier mode'], 'edit');
  const { info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.width, 4);
  for (const c of readChunks(png)) {
    const view = new DataView(png.buffer, png.byteOffset + c.offset + 8 + c.data.length, 4);
    const typeAndData = png.subarray(c.offset + 4, c.offset + 8 + c.data.length);
    assert.equal(view.getUint32(0), zlibCrc32(typeAndData), `CRC of ${c.type}`);
  }
  // Non-Latin-1 text goes to iTXt, and the last chunk is IEND.
  const types = readChunks(png).map((c) => c.type);
  assert.equal(types.at(-1), 'IEND');
  assert.equal(types.filter((t) => t === 'iTXt').length, 2);
});

test('applied LoRAs are recorded in both chunks', async () => {
  const png = addMetadata(await tinyPng(), { ...meta, loras: [{ name: 'ink style', weight: 0.8, rank: 4 }, { name: 'b', weight: -1, rank: 2 }] });
  const back = readMetadata(png);
  assert.deepEqual(back.atelier!.loras, [{ name: 'ink style', weight: 0.8, rank: 4 }, { name: 'b', weight: -1, rank: 2 }]);
  assert.equal(back.parameters!.params['LoRAs'], 'ink style: 0.8, b: -1');
});

test('writing again replaces the chunks instead of duplicating them', async () => {
  const once = addMetadata(await tinyPng(), meta);
  const twice = addMetadata(once, { ...meta, seed: 1 });
  const entries = readTextChunks(twice);
  assert.equal(entries.filter((e) => e.keyword === 'atelier').length, 1);
  assert.equal(readMetadata(twice).atelier!.seed, 1);
});

test('Latin-1 parameters go in tEXt; other tools\' chunks are read as raw text', async () => {
  const png = withTextChunks(await tinyPng(), [
    { keyword: 'parameters', text: 'plain prompt\nSteps: 5, Seed: 1, Size: 4x3' },
    { keyword: 'prompt', text: '{"3": {"class_type": "KSampler"}}' },
  ]);
  assert.deepEqual(readChunks(png).filter((c) => c.type === 'tEXt').length, 2);
  const back = readMetadata(png);
  assert.equal(back.parameters!.prompt, 'plain prompt');
  assert.equal(back.atelier, null);
  assert.match(back.raw['prompt']!, /KSampler/);
});

test('compressed iTXt and zTXt written by other tools are read', async () => {
  const { deflateSync } = await import('node:zlib');
  const body = deflateSync(Buffer.from('compressed ☃ text'));
  const mk = (type: string, data: Uint8Array): Uint8Array => {
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    out.write(type, 4, 'latin1');
    Buffer.from(data).copy(out, 8);
    out.writeUInt32BE(zlibCrc32(out.subarray(4, 8 + data.length)), 8 + data.length);
    return out;
  };
  const itxt = Buffer.concat([Buffer.from('note\0\x01\x00\0\0', 'latin1'), body]);
  const ztxt = Buffer.concat([Buffer.from('old\0\x00', 'latin1'), deflateSync(Buffer.from('latin text'))]);
  const base = await tinyPng();
  const iendAt = readChunks(base).find((c) => c.type === 'IEND')!.offset;
  const png = Buffer.concat([base.subarray(0, iendAt), mk('iTXt', itxt), mk('zTXt', ztxt), base.subarray(iendAt)]);
  const raw = readMetadata(png).raw;
  assert.equal(raw['note'], 'compressed ☃ text');
  assert.equal(raw['old'], 'latin text');
  assert.equal(inflateSync(body).toString(), 'compressed ☃ text');
});

test('non-PNG input is refused clearly', () => {
  assert.throws(() => readMetadata(new Uint8Array([1, 2, 3])), /not a PNG/);
});
