// Prompt lists: txt, CSV (quotes, commas and line breaks inside fields), TSV and JSONL, each row
// checked on its own with a message that names the problem; the good rows are kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseCsv, CsvError } from '../../../src-main/batch/csv';
import { detectFormat, parsePromptList, PromptListError } from '../../../src-main/batch/parse';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-parse-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
fs.writeFileSync(path.join(dir, 'cat.png'), Buffer.from('not really a png, only its existence is checked here'));
const parse = (text: string, fileName: string) => parsePromptList(text, { fileName, baseDir: dir });

test('CSV: quoted fields keep commas, quotes and line breaks; records know their first line', () => {
  const text = '\ufeffprompt,seed\r\n"a cat, sitting",1\r\n"say ""hi""",2\n"two\nlines",3\n\nplain,4\n';
  const records = parseCsv(text);
  assert.deepEqual(records.map((r) => r.fields), [['prompt', 'seed'], ['a cat, sitting', '1'], ['say "hi"', '2'], ['two\nlines', '3'], ['plain', '4']]);
  assert.deepEqual(records.map((r) => r.line), [1, 2, 3, 4, 7]);
  assert.throws(() => parseCsv('prompt\n"never closed\n'), (e: Error) => e instanceof CsvError && /never closed/.test(e.message) && /line 2/.test(e.message));
  assert.throws(() => parseCsv('prompt\n"a"b\n'), /after a closing quote/);
});

test('CSV rows: parameters parsed, bad rows reported by line with every reason, good rows kept', () => {
  const text = [
    'Prompt,Seed,Steps,CFG Scale,Size,Model,LoRAs,Sampler,notes',
    '"red apple, shiny",42,8,3.5,32x32,,"style:0.8; ink",heun,keep me',
    'blue sky,-1,0,99,big,,,,',
    ',1,,,,,,,',
    'ok again,,,,,,,,',
    'too,many,fields,,,,,,,extra',
  ].join('\n');
  const list = parse(text, 'list.csv');
  assert.equal(list.format, 'csv');
  assert.equal(list.rows.length, 5);
  const [good, bad, empty, ok, wide] = list.rows;
  assert.deepEqual(good!.params, {
    prompt: 'red apple, shiny',
    seed: 42,
    steps: 8,
    cfg: 3.5,
    size: { width: 32, height: 32 },
    loras: [{ name: 'style', weight: 0.8 }, { name: 'ink', weight: 1 }],
    sampler: 'heun',
  });
  assert.equal(bad!.params, null);
  assert.equal(bad!.line, 3);
  assert.deepEqual(bad!.errors, [
    'seed must be between 0 and 4294967295 (got -1)',
    'steps must be between 1 and 200 (got 0)',
    'cfg must be between 0 and 30 (got 99)',
    'size must look like 512x512 (got "big")',
  ]);
  assert.deepEqual(empty!.errors, ['the prompt is empty']);
  assert.deepEqual(ok!.params, { prompt: 'ok again' });
  assert.match(wide!.errors[0]!, /has 10 fields but the header names 9/);
  assert.deepEqual(list.warnings.length, 1);
  assert.match(list.warnings[0]!, /ignored unknown column "notes"/);
});

test('CSV without a prompt column, or with a repeated column, is refused whole', () => {
  assert.throws(() => parse('text2,seed\na,1\n', 'x.csv'), (e: Error) => e instanceof PromptListError && /"prompt"/.test(e.message) && /"text2"/.test(e.message));
  assert.throws(() => parse('prompt,seed,Seed\na,1,2\n', 'x.csv'), /appears twice/);
  assert.throws(() => parse('\n\n', 'x.txt'), /no prompts/);
});

test('TSV and txt: tabs split columns; txt has one prompt per line, # comments and blanks skipped', () => {
  const tsv = parse('prompt\tseed\na, b\t3\n', 'x.tsv');
  assert.deepEqual(tsv.rows[0]!.params, { prompt: 'a, b', seed: 3 });
  const txt = parse('# my prompts\r\nfirst one\r\n\r\n  second, with comma  \nthird\n', 'p.txt');
  assert.deepEqual(txt.rows.map((r) => [r.line, r.params?.prompt]), [[2, 'first one'], [4, 'second, with comma'], [5, 'third']]);
});

test('JSONL: typed values, edit rows with a source image, bad lines reported, the rest kept', () => {
  const lines = [
    JSON.stringify({ prompt: 'a fox', seed: 7, steps: 4, cfg: 2, size: [32, 32], loras: [{ name: 'fur', weight: 0.5 }, 'ink:1.5'] }),
    JSON.stringify({ image: 'cat.png', instruction: 'make it blue', strength: 0.7 }),
    '{not json',
    JSON.stringify(['an', 'array']),
    JSON.stringify({ image: 'missing.png', instruction: 'x' }),
    JSON.stringify({ prompt: 'p', strength: 0.5, sampler: 'ddim', width: 32 }),
    JSON.stringify('just a prompt'),
    JSON.stringify({ prompt: 'p', seed: 1.5, model: 3, colour: 'red' }),
  ].join('\n');
  const list = parse(lines, 'x.jsonl');
  assert.equal(list.format, 'jsonl');
  const [fox, edit, broken, array, missing, wrong, plain, typed] = list.rows;
  assert.deepEqual(fox!.params, { prompt: 'a fox', seed: 7, steps: 4, cfg: 2, size: { width: 32, height: 32 }, loras: [{ name: 'fur', weight: 0.5 }, { name: 'ink', weight: 1.5 }] });
  assert.deepEqual(edit!.params, { prompt: 'make it blue', strength: 0.7, image: path.join(dir, 'cat.png') });
  assert.match(broken!.errors[0]!, /^not valid JSON/);
  assert.match(array!.errors[0]!, /must be a JSON object/);
  assert.match(missing!.errors[0]!, /source image "missing.png" was not found/);
  assert.deepEqual(wrong!.errors, ['give both width and height', 'strength applies to edit rows only (give an image)', 'sampler must be euler or heun (got "ddim")']);
  assert.deepEqual(plain!.params, { prompt: 'just a prompt' });
  assert.deepEqual(typed!.errors, ['seed must be a whole number (got 1.5)', 'model must be text (got 3)']);
  assert.match(list.warnings[0]!, /"colour"/);
});

test('control characters in a prompt are refused; the format is guessed from the name, else the content', () => {
  const list = parse(JSON.stringify({ prompt: 'bad\u0000byte' }) + '\n', 'x.jsonl');
  assert.deepEqual(list.rows[0]!.errors, ['the prompt holds control characters']);
  assert.equal(detectFormat('prompts', '{"prompt":"a"}'), 'jsonl');
  assert.equal(detectFormat('prompts', 'a cat'), 'txt');
  assert.equal(detectFormat('P.CSV', ''), 'csv');
});
