// LoRA training runs on the fixture bundle: resume after kill -9, cancel, a full disk, checkpoint
// files (atomic, kohya ss_* metadata, keep last K), and the dataset's bad inputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { parseManifest } from '../../src-main/engine/bundle/manifest';
import { DatasetError, DiskWriteError, runTraining } from '../../src-main/trainer';
import type { TrainSettings } from '../../src-main/trainer';
import { decodeLoraFile } from '../../src-main/trainer/lora-file';
import { decodeSafetensors } from '../../src-main/trainer/safetensors';
import type { WriteIo } from '../../src-main/trainer/atomic-write';
import { realIo } from '../../src-main/trainer/atomic-write';
import { FIXTURE_BUNDLE } from './helpers';

const manifest = parseManifest(readFileSync(path.join(FIXTURE_BUNDLE, 'bundle.json'), 'utf8'), 'fixture');
const SETTINGS: Partial<TrainSettings> = { steps: 24, batch: 2, rank: 3, alpha: 3, learningRate: 5e-3, warmupSteps: 2, checkpointEvery: 4, keepCheckpoints: 2, seed: 11, trigger: 'zqx' };

function tempDir(label: string): string {
  return mkdtempSync(path.join(tmpdir(), `atelier-lora-${label}-`));
}

async function makeDataset(dir: string, count: number, opts: { captions?: boolean } = {}): Promise<string> {
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < count; i++) {
    // Different sizes and aspect ratios: preprocessing fits each to the model's size.
    const png = await sharp({ create: { width: 40 + 8 * i, height: 32 + 4 * (i % 3), channels: 3, background: { r: 30 + 50 * i, g: 220 - 40 * i, b: 90 + 20 * i } } })
      .png()
      .toBuffer();
    writeFileSync(path.join(dir, `img${i}.png`), png);
    if (opts.captions !== false) writeFileSync(path.join(dir, `img${i}.txt`), `a flat colour number ${i}`);
  }
  return dir;
}

function loraOf(file: string) {
  return decodeLoraFile(manifest, readFileSync(file), file);
}

function maxDiff(a: Float32Array[], b: Float32Array[]): number {
  let d = 0;
  a.forEach((x, k) => x.forEach((v, i) => (d = Math.max(d, Math.abs(v - b[k]![i]!)))));
  return d;
}

test('kill -9 mid-training, then resume: continues from the last checkpoint to the same LoRA, no file corrupt', async (t) => {
  const root = tempDir('kill');
  try {
    const ds = await makeDataset(path.join(root, 'data'), 4);
    const straight = await runTraining({ bundleDir: FIXTURE_BUNDLE, datasetDir: ds, runDir: path.join(root, 'straight'), threads: 1, settings: SETTINGS });
    assert.equal(straight.status, 'done');

    const runDir = path.join(root, 'killed');
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../unit/trainer/fixtures/train-child.ts', import.meta.url)), FIXTURE_BUNDLE, ds, runDir, JSON.stringify(SETTINGS)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let killedAfter = 0;
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exit = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    child.stdout.on('data', (d: Buffer) => {
      const steps = [...d.toString().matchAll(/step (\d+)/g)].map((x) => Number(x[1]));
      if (steps.length && Math.max(...steps) >= 10 && !killedAfter) {
        killedAfter = Math.max(...steps);
        child.kill('SIGKILL');
      }
    });
    const signal = await exit;
    assert.equal(signal, 'SIGKILL', `the child was not killed (it ended on its own): ${stderr}`);
    const left = readdirSync(path.join(runDir, 'checkpoints')).filter((f) => f.endsWith('.safetensors'));
    assert.ok(left.length >= 1, 'no checkpoint before the kill');
    for (const f of left) loraOf(path.join(runDir, 'checkpoints', f)); // every checkpoint reads back whole

    const resumed = await runTraining({ bundleDir: FIXTURE_BUNDLE, datasetDir: ds, runDir, threads: 1, settings: SETTINGS });
    t.diagnostic(`killed after step ≥ ${killedAfter}, resumed from step ${resumed.resumedFrom}`);
    assert.equal(resumed.status, 'done');
    assert.ok(resumed.resumedFrom !== null && resumed.resumedFrom >= 8 && resumed.resumedFrom % 4 === 0 && resumed.resumedFrom < 24);
    // Exact resume: the same losses and the same final weights as the uninterrupted run.
    assert.deepEqual(resumed.losses, straight.losses);
    const a = loraOf(straight.output!).weights;
    const b = loraOf(resumed.output!).weights;
    assert.equal(maxDiff([...a.down, ...a.up], [...b.down, ...b.up]), 0);
    // Keep-last-K and no temp files left behind.
    const files = readdirSync(path.join(runDir, 'checkpoints'));
    assert.deepEqual(files, ['step-000020.safetensors', 'step-000024.safetensors']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('checkpoints and the final LoRA carry kohya ss_* metadata; the final file has no training state', async () => {
  const root = tempDir('meta');
  try {
    const ds = await makeDataset(path.join(root, 'data'), 3);
    const out = path.join(root, 'my.safetensors');
    const events: number[] = [];
    const r = await runTraining({ bundleDir: FIXTURE_BUNDLE, datasetDir: ds, runDir: path.join(root, 'run'), output: out, threads: 1, settings: { ...SETTINGS, steps: 6 }, hooks: { onCheckpoint: (c) => events.push(c.step) } });
    assert.deepEqual(events, [4, 6]);
    const file = decodeSafetensors(readFileSync(out), out);
    const md = file.metadata;
    assert.equal(md['ss_network_dim'], '3');
    assert.equal(md['ss_network_alpha'], '3');
    assert.equal(md['ss_max_train_steps'], '6');
    assert.equal(md['ss_steps'], '6');
    assert.equal(md['ss_seed'], '11');
    assert.equal(md['ss_num_train_images'], '3');
    assert.equal(md['ss_sd_model_name'], manifest.name);
    assert.equal(md['ss_training_comment'], 'trigger word: zqx');
    assert.match(md['ss_tag_frequency']!, /zqx/);
    assert.equal(md['atelier_state'], undefined);
    assert.ok(![...file.tensors.keys()].some((k) => k.startsWith('atelier_state')));
    assert.ok(file.tensors.has('lora_dit_blocks_0_attn_qkv.lora_down.weight'));
    assert.deepEqual(file.tensors.get('lora_dit_blocks_0_attn_qkv.lora_up.weight')!.shape, [manifest.lora!.targets[0]!.out, 3]);
    const ck = loraOf(r.checkpoints.at(-1)!);
    assert.equal(ck.state!.step, 6);
    assert.equal(ck.state!.losses.length, 6);
    // up starts at zero and training moved it: the LoRA is not a silent no-op.
    assert.ok(loraOf(out).weights.up.some((u) => u.some((v) => v !== 0)));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('cancel stops within a step and keeps a checkpoint of the step reached; resume finishes', async () => {
  const root = tempDir('cancel');
  try {
    const ds = await makeDataset(path.join(root, 'data'), 3);
    const runDir = path.join(root, 'run');
    const ac = new AbortController();
    const r = await runTraining({ bundleDir: FIXTURE_BUNDLE, datasetDir: ds, runDir, threads: 1, signal: ac.signal, settings: { ...SETTINGS, steps: 12 }, hooks: { onStep: (s) => s.step === 5 && ac.abort() } });
    assert.equal(r.status, 'cancelled');
    assert.equal(r.step, 5);
    assert.ok(existsSync(path.join(runDir, 'checkpoints', 'step-000005.safetensors')));
    const again = await runTraining({ bundleDir: FIXTURE_BUNDLE, datasetDir: ds, runDir, threads: 1, settings: { ...SETTINGS, steps: 12 } });
    assert.equal(again.resumedFrom, 5);
    assert.equal(again.status, 'done');
    assert.equal(again.losses.length, 12);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a disk that fills during a checkpoint: a clear error, the previous checkpoint intact, resume works', async () => {
  const root = tempDir('enospc');
  try {
    const ds = await makeDataset(path.join(root, 'data'), 3);
    const runDir = path.join(root, 'run');
    let armed = false;
    const fullDisk: WriteIo = {
      write(fd, data, position) {
        if (armed) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        return realIo.write(fd, data, position);
      },
    };
    await assert.rejects(
      runTraining({ bundleDir: FIXTURE_BUNDLE, datasetDir: ds, runDir, threads: 1, io: fullDisk, settings: { ...SETTINGS, steps: 12 }, hooks: { onStep: (s) => (armed = s.step === 8) } }),
      (e: unknown) => e instanceof DiskWriteError && /step-000008.*the disk is full.*last checkpoint \(step 4\) is kept/s.test(e.message),
    );
    const files = readdirSync(path.join(runDir, 'checkpoints'));
    assert.deepEqual(files, ['step-000004.safetensors'], 'a partial or temp file was left behind');
    assert.equal(loraOf(path.join(runDir, 'checkpoints', files[0]!)).state!.step, 4);
    const r = await runTraining({ bundleDir: FIXTURE_BUNDLE, datasetDir: ds, runDir, threads: 1, settings: { ...SETTINGS, steps: 12 } });
    assert.equal(r.resumedFrom, 4);
    assert.equal(r.status, 'done');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('bad datasets: too few images, an unreadable image, missing captions — every problem named, nothing written', async () => {
  const root = tempDir('bad');
  try {
    const runDir = path.join(root, 'run');
    const few = await makeDataset(path.join(root, 'few'), 2);
    await assert.rejects(runTraining({ bundleDir: FIXTURE_BUNDLE, datasetDir: few, runDir, settings: SETTINGS }), (e: unknown) => e instanceof DatasetError && /found 2 images.*at least 3/.test(e.message));

    const broken = await makeDataset(path.join(root, 'broken'), 4);
    writeFileSync(path.join(broken, 'img1.png'), readFileSync(path.join(broken, 'img1.png')).subarray(0, 40)); // truncated
    rmSync(path.join(broken, 'img2.txt'));
    await assert.rejects(runTraining({ bundleDir: FIXTURE_BUNDLE, datasetDir: broken, runDir, settings: SETTINGS }), (e: unknown) => {
      assert.ok(e instanceof DatasetError);
      assert.equal(e.problems.length, 2, e.message);
      assert.match(e.message, /img1\.png: cannot be read as an image/);
      assert.match(e.message, /img2\.png: no caption file img2\.txt/);
      return true;
    });
    await assert.rejects(runTraining({ bundleDir: FIXTURE_BUNDLE, datasetDir: path.join(root, 'nope'), runDir, settings: SETTINGS }), /cannot open the folder/);
    assert.equal(existsSync(runDir), false, 'a failed check must not create the run folder');
    // The user's files are untouched.
    assert.equal(readdirSync(broken).length, 7);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a run folder refuses different settings instead of mixing two runs', async () => {
  const root = tempDir('mismatch');
  try {
    const ds = await makeDataset(path.join(root, 'data'), 3);
    const runDir = path.join(root, 'run');
    // condition 'own-codes' (not the default): one teacher-forced item per image.
    const settings = { ...SETTINGS, steps: 4, condition: 'own-codes' as const };
    const r = await runTraining({ bundleDir: FIXTURE_BUNDLE, datasetDir: ds, runDir, threads: 1, settings });
    assert.equal(r.dataset.count, 3);
    await assert.rejects(runTraining({ bundleDir: FIXTURE_BUNDLE, datasetDir: ds, runDir, threads: 1, settings: { ...settings, rank: 2 } }), /other settings/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("condition 'sampled' (the default): four AR samples per image become training items, cached, and the run resumes", async () => {
  const root = tempDir('sampled');
  try {
    const ds = await makeDataset(path.join(root, 'data'), 3);
    const runDir = path.join(root, 'run');
    const settings = { ...SETTINGS, steps: 4 }; // no condition given: the default must be 'sampled'
    assert.equal(settings.condition, undefined);
    const r = await runTraining({ bundleDir: FIXTURE_BUNDLE, datasetDir: ds, runDir, threads: 1, settings });
    assert.equal(r.status, 'done');
    assert.equal(r.dataset.count, 12);
    assert.equal(readdirSync(path.join(runDir, 'cache')).length, 12);
    // The same folder with the other condition is another run: refused, not mixed.
    await assert.rejects(runTraining({ bundleDir: FIXTURE_BUNDLE, datasetDir: ds, runDir, threads: 1, settings: { ...settings, condition: 'own-codes' } }), /other settings/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
