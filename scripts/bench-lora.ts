// `node --import tsx scripts/bench-lora.ts [--model DIR --steps N --rank N --batch N --images N --threads N --condition own-codes|sampled]`
// LoRA training speed: the TypeScript trainer (onnxruntime-node gradient graph + AdamW in TS) against
// its PyTorch twin (modeling/lora/twin.py: autograd + torch.optim.AdamW) on the same CPU, the same
// prepared data (the twin reads the TS run's cache), seed and settings; also how far the two loss
// curves are apart. JSON on stdout. The model needs LoRA graphs (python -m modeling.lora.export).
// Default model: resources/models/atelier-nano if present, else the fixture bundle.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { runTraining } from '../src-main/trainer';

const root = fileURLToPath(new URL('..', import.meta.url));
const NANO = path.join(root, 'resources/models/atelier-nano');
const FIXTURE = path.join(root, 'tests/fixtures/bundle-fixture');
const PYTHON = path.join(root, '.venv/bin/python');

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    steps: { type: 'string', default: '30' },
    rank: { type: 'string', default: '8' },
    batch: { type: 'string', default: '2' },
    images: { type: 'string', default: '8' },
    threads: { type: 'string', default: '1' },
    condition: { type: 'string', default: 'own-codes' },
  },
});
const model = values.model ?? (existsSync(path.join(NANO, 'bundle.json')) ? NANO : FIXTURE);
const steps = Number(values.steps);
const threads = Number(values.threads);
const dir = mkdtempSync(path.join(os.tmpdir(), 'atelier-bench-lora-'));
try {
  const ds = path.join(dir, 'data');
  mkdirSync(ds);
  for (let i = 0; i < Number(values.images); i++) {
    const png = await sharp({ create: { width: 96, height: 80, channels: 3, background: { r: (37 * i) % 256, g: (91 * i) % 256, b: 200 - 10 * i } } }).png().toBuffer();
    writeFileSync(path.join(ds, `img${i}.png`), png);
    writeFileSync(path.join(ds, `img${i}.txt`), `a flat colour card number ${i}`);
  }
  const runDir = path.join(dir, 'run');
  const settings = { steps, rank: Number(values.rank), alpha: Number(values.rank), batch: Number(values.batch), warmupSteps: 3, learningRate: 1e-3, checkpointEvery: steps, sampleEvery: 0, condition: values.condition as 'own-codes' | 'sampled' };
  const t0 = performance.now();
  const ts = await runTraining({ bundleDir: model, datasetDir: ds, runDir, threads, settings });
  const tsTotal = (performance.now() - t0) / 1000;
  const out = path.join(dir, 'twin.json');
  const py = spawnSync(PYTHON, ['-m', 'modeling.lora.twin', '--bundle', model, '--run-dir', runDir, '--threads', String(threads), '--out', out], { cwd: root, encoding: 'utf8' });
  if (py.status !== 0) throw new Error(`PyTorch twin failed: ${py.stderr}`);
  const twin = JSON.parse(readFileSync(out, 'utf8')) as { losses: number[]; steps_per_second: number; compute_steps_per_second: number };
  const rel = ts.losses.map((l, i) => Math.abs(l - twin.losses[i]!) / Math.abs(twin.losses[i]!));
  const manifest = JSON.parse(readFileSync(path.join(model, 'bundle.json'), 'utf8')) as { name: string; lora?: { train: { batch: number; max_rank: number } } };
  process.stdout.write(
    JSON.stringify(
      {
        model: manifest.name,
        model_dir: model,
        cpu: os.cpus()[0]?.model,
        threads,
        settings,
        graph: manifest.lora?.train,
        ts_steps_per_second: Math.round(ts.stepsPerSecond * 100) / 100,
        torch_steps_per_second: Math.round(twin.steps_per_second * 100) / 100,
        // The twin's draws are pure-Python Rng calls; this rate counts only forward + backward + AdamW.
        torch_compute_only_steps_per_second: Math.round(twin.compute_steps_per_second * 100) / 100,
        ts_over_torch: Math.round((ts.stepsPerSecond / twin.steps_per_second) * 100) / 100,
        ts_over_torch_compute_only: Math.round((ts.stepsPerSecond / twin.compute_steps_per_second) * 100) / 100,
        ts_total_seconds_with_preprocessing: Math.round(tsTotal * 10) / 10,
        loss_first_last: [ts.losses[0], ts.losses.at(-1)],
        loss_curve_max_relative_difference: Math.max(...rel),
      },
      null,
      2,
    ) + '\n',
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
