// The atelier CLI: in-process through main() for the commands, and once as a real process for exit codes.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { main, outputPaths, UsageError } from '../../src-main/cli/index';
import { readMetadata } from '../../src-main/engine';
import { FIXTURE_BUNDLE, gradientPng, tempEditBundle } from './helpers';

const tmp = mkdtempSync(path.join(tmpdir(), 'atelier-cli-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const root = fileURLToPath(new URL('../..', import.meta.url));
const quiet = ['--model', FIXTURE_BUNDLE, '--ep', 'cpu', '--threads', '1', '--quiet'];

test('generate writes a PNG carrying its parameters; a batch writes numbered files', async () => {
  const out = path.join(tmp, 'apple.png');
  const log: string[] = [];
  await main(['generate', 'a red apple', '-o', out, '--seed', '7', '--steps', '3', ...quiet], (s) => log.push(s));
  const meta = readMetadata(readFileSync(out));
  assert.equal(meta.atelier!.prompt, 'a red apple');
  assert.equal(meta.atelier!.seed, 7);
  assert.equal(meta.parameters!.params['Steps'], '3');
  assert.ok(log.some((l) => l.startsWith(`wrote ${out} (seed 7`)));
  await main(['generate', 'pears', '-o', path.join(tmp, 'b.png'), '--seed', '1', '--batch', '2', ...quiet], () => undefined);
  assert.ok(existsSync(path.join(tmp, 'b-0.png')) && existsSync(path.join(tmp, 'b-1.png')));
  assert.equal(readMetadata(readFileSync(path.join(tmp, 'b-1.png'))).atelier!.seed, 2);
  assert.deepEqual(outputPaths('x/out.png', 1), ['x/out.png']);
  assert.deepEqual(outputPaths('x/out', 2), ['x/out-0.png', 'x/out-1.png']);
});

test('edit and inpaint take input files; info prints what a PNG holds', async () => {
  const input = path.join(tmp, 'in.png');
  writeFileSync(input, await gradientPng(40, 40));
  const mask = path.join(tmp, 'mask.png');
  const sharp = (await import('sharp')).default;
  const m = new Uint8Array(1600);
  m.fill(255, 0, 400);
  writeFileSync(mask, await sharp(m, { raw: { width: 40, height: 40, channels: 1 } }).png().toBuffer());
  const log: string[] = [];
  await main(['edit', input, 'make it blue', '-o', path.join(tmp, 'e.png'), '--seed', '2', '--strength', '0.5', '--ar-cfg', '2', ...quiet], (s) => log.push(s));
  const edited = readMetadata(readFileSync(path.join(tmp, 'e.png'))).atelier!;
  assert.equal(edited.strength, 0.5);
  assert.equal(edited.ar.cfg_scale, 2);
  assert.equal(edited.width, 40, "an edit comes back at the input's size");
  assert.ok(log.some((l) => /note: input image resized from 40×40 to 32×32/.test(l)));
  assert.equal(edited.keep_unchanged, undefined, "the fixture bundle's default: off");
  log.length = 0;
  await main(['edit', input, 'make it blue', '-o', path.join(tmp, 'k.png'), '--seed', '2', '--keep', ...quiet], (s) => log.push(s));
  const kept = readMetadata(readFileSync(path.join(tmp, 'k.png'))).atelier!.keep_unchanged!;
  assert.equal(kept.cells, 16);
  assert.ok(log.some((l) => l.includes(`kept ${kept.cells_kept} of 16 cells of the input`)));
  assert.ok(!log.some((l) => l.includes('edit generator')), 'the fixture bundle has none');
  log.length = 0;
  const editBundle = tempEditBundle();
  try {
    const withEditor = ['--model', editBundle.dir, '--ep', 'cpu', '--threads', '1', '--quiet'];
    await main(['edit', input, 'make it blue', '-o', path.join(tmp, 'g.png'), '--seed', '2', ...withEditor], (s) => log.push(s));
  } finally {
    editBundle.cleanup();
  }
  assert.equal(readMetadata(readFileSync(path.join(tmp, 'g.png'))).atelier!.model.generator, 'edit');
  assert.ok(log.some((l) => l.includes(', on the edit generator)')));
  await main(['inpaint', input, '--mask', mask, 'a cat', '-o', path.join(tmp, 'i.png'), ...quiet], () => undefined);
  const meta = readMetadata(readFileSync(path.join(tmp, 'i.png')));
  assert.equal(meta.atelier!.mode, 'inpaint');
  assert.equal(meta.atelier!.width, 40);
});

test('usage errors are clear', async () => {
  await assert.rejects(main(['generate', '-o', 'x.png'], () => undefined), (e: Error) => e instanceof UsageError && /one "prompt"/.test(e.message));
  await assert.rejects(main(['generate', 'p'], () => undefined), /needs -o OUT.png/);
  await assert.rejects(main(['generate', 'p', '-o', 'x.png', '--steps', 'ten'], () => undefined), /--steps must be an integer/);
  await assert.rejects(main(['inpaint', 'a.png', 'p', '-o', 'x.png'], () => undefined), /needs --mask/);
  await assert.rejects(main(['edit', 'a.png', 'p', '-o', 'x.png', '--keep', '--no-keep'], () => undefined), /--keep or --no-keep, not both/);
  await assert.rejects(main(['frobnicate'], () => undefined), /unknown command 'frobnicate'/);
  await assert.rejects(main(['generate', 'p', '-o', 'x.png', '--ep', 'tpu'], () => undefined), /--ep must be one of/);
});

test('as a process: a missing default model says how to get it (exit 1); usage errors exit 2', () => {
  const empty = mkdtempSync(path.join(tmp, 'models-'));
  const env = { ...process.env, ATELIER_MODELS_DIR: empty };
  const run = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'src-main/cli/index.ts', ...args], { cwd: root, env, encoding: 'utf8' });
  const missing = run(['generate', 'a cat', '-o', path.join(tmp, 'n.png')]);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /atelier: error: the default model 'atelier-nano' is not installed .* --model DIR/);
  const usage = run(['generate']);
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /takes one "prompt"/);
  const models = run(['models']);
  assert.equal(models.status, 0);
  assert.match(models.stderr, /no models in/);
});
