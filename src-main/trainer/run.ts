// A whole LoRA training run in a run folder:
//   run.json                       settings, dataset and model identity (a resume must match)
//   cache/<key>.safetensors        prepared items (latents + caption condition)
//   checkpoints/step-NNNNNN.safetensors   LoRA + optimizer moments + resume state, the last K kept
//   samples/step-NNNNNN-I.png      sample images (fixed prompts and seed), at step 0 and every N
//   lora.safetensors               the final LoRA (no training state)
// A run started again in the same folder resumes from its newest readable checkpoint (after a crash,
// kill -9 or cancel); every file is written atomically, and old checkpoints go only after a new one
// is safely on disk, so a full disk or a kill loses at most the steps since the last checkpoint.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Engine } from '../engine';
import { loadBundle } from '../engine';
import type { WriteIo } from './atomic-write';
import { DiskWriteError, realIo, writeFileAtomic } from './atomic-write';
import { scanDataset } from './dataset';
import type { Dataset } from './dataset';
import { GradientGraph } from './gradients';
import type { LoraCheckpointData, ResumeState } from './lora-file';
import { decodeLoraFile, encodeLoraFile } from './lora-file';
import { LoraLoop } from './loop';
import type { StepResult } from './loop';
import { prepareItems } from './preprocess';
import type { TrainSettings } from './settings';
import { resolveSettings, settingsHash } from './settings';

export interface TrainHooks {
  onStage?(stage: 'scan' | 'prepare' | 'train' | 'sample' | 'save', done: number, total: number): void;
  onStep?(r: StepResult & { stepsPerSecond: number }): void;
  onCheckpoint?(c: { step: number; path: string; sha256: string; bytes: number }): void;
  onCheckpointRemoved?(c: { step: number; path: string }): void;
  onSample?(s: { step: number; index: number; prompt: string; seed: number; path: string; png: Uint8Array }): void | Promise<void>;
  onResume?(r: { step: number; path: string; skipped: string[] }): void;
  log?(message: string): void;
}

export interface TrainOptions {
  bundleDir: string;
  datasetDir: string;
  runDir: string;
  /** Where the final LoRA goes too (besides runDir/lora.safetensors). */
  output?: string;
  settings: Partial<TrainSettings>;
  threads?: number;
  signal?: AbortSignal;
  hooks?: TrainHooks;
  /** Test hook for disk writes (simulate a full disk). */
  io?: WriteIo;
}

export interface TrainResult {
  status: 'done' | 'cancelled';
  step: number;
  losses: number[];
  output: string | null;
  resumedFrom: number | null;
  checkpoints: string[];
  stepsPerSecond: number;
  dataset: { count: number; hash: string };
}

const pad = (n: number) => String(n).padStart(6, '0');
const checkpointName = (step: number) => `step-${pad(step)}.safetensors`;

function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

function listCheckpoints(dir: string): { step: number; path: string }[] {
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .map((n) => /^step-(\d+)\.safetensors$/.exec(n))
    .filter((x): x is RegExpExecArray => x !== null)
    .map((x) => ({ step: Number(x[1]), path: path.join(dir, x[0]) }))
    .sort((a, b) => a.step - b.step);
}

export function loraMetadata(s: TrainSettings, extra: { engine: Engine; dataset: Dataset; step: number; startedAt: number; outputName: string }): Record<string, string> {
  const m = extra.engine.manifest;
  const tags: Record<string, number> = {};
  for (const it of extra.dataset.items) for (const tag of it.caption.split(',').map((x) => x.trim()).filter(Boolean)) tags[tag] = (tags[tag] ?? 0) + 1;
  const dirName = path.basename(extra.dataset.dir);
  return {
    ss_network_module: 'atelier.lora',
    ss_network_dim: String(s.rank),
    ss_network_alpha: String(s.alpha),
    ss_learning_rate: String(s.learningRate),
    ss_unet_lr: String(s.learningRate),
    ss_text_encoder_lr: '0',
    ss_lr_scheduler: s.schedule,
    ss_lr_warmup_steps: String(s.warmupSteps),
    ss_optimizer: `AdamW(betas=(0.9, 0.999), eps=1e-08, weight_decay=${s.weightDecay})`,
    ss_max_grad_norm: String(s.maxGradNorm),
    ss_max_train_steps: String(s.steps),
    ss_steps: String(extra.step),
    ss_epoch: String(Math.floor((extra.step * s.batch) / Math.max(1, extra.dataset.items.length))),
    ss_batch_size_per_device: String(s.batch),
    ss_seed: String(s.seed),
    ss_caption_dropout_rate: String(s.condDropProb),
    ss_num_train_images: String(extra.dataset.items.length),
    ss_resolution: `(${m.image.width}, ${m.image.height})`,
    ss_sd_model_name: m.name,
    ss_new_sd_model_hash: extra.engine.bundle.hash,
    ss_base_model_version: `${m.family}:${m.variant}`,
    ss_dataset_dirs: JSON.stringify({ [dirName]: { n_repeats: 1, img_count: extra.dataset.items.length } }),
    ss_tag_frequency: JSON.stringify({ [dirName]: tags }),
    ss_training_started_at: String(extra.startedAt / 1000),
    ss_output_name: extra.outputName,
    ss_training_comment: s.trigger ? `trigger word: ${s.trigger}` : '',
    atelier_trigger: s.trigger,
    atelier_dataset_hash: extra.dataset.hash,
    atelier_targets: 'dit: self-attention qkv/out, cross-attention q/kv/out, mlp fc1/fc2 of every block',
  };
}

export async function runTraining(opts: TrainOptions): Promise<TrainResult> {
  const hooks = opts.hooks ?? {};
  const io = opts.io ?? realIo;
  const log = hooks.log ?? (() => undefined);
  hooks.onStage?.('scan', 0, 1);
  // Check the dataset before loading anything heavy: bad input fails in a second, naming the files.
  const dataset = await scanDataset(opts.datasetDir, { trigger: opts.settings.trigger, minImages: opts.settings.minImages });
  const engine = await loadBundle(opts.bundleDir, { executionProvider: 'cpu', threads: opts.threads });
  let graph: GradientGraph | null = null;
  try {
    const m = engine.manifest;
    graph = await GradientGraph.open(opts.bundleDir, m, opts.threads);
    const s = resolveSettings(opts.settings, { maxRank: graph.maxRank, graphBatch: graph.batch });
    const hash = settingsHash(s, engine.bundle.hash);
    const ckDir = path.join(opts.runDir, 'checkpoints');
    const sampleDir = path.join(opts.runDir, 'samples');
    for (const d of [opts.runDir, ckDir, sampleDir]) mkdirSync(d, { recursive: true });
    // Temp files of a write that a kill interrupted: never a checkpoint, safe to drop.
    for (const f of readdirSync(ckDir)) if (f.endsWith('.tmp')) rmSync(path.join(ckDir, f), { force: true });
    const runJson = path.join(opts.runDir, 'run.json');
    let startedAt = Date.now();
    try {
      const prev = JSON.parse(readFileSync(runJson, 'utf8')) as { settingsHash: string; datasetHash: string; startedAt: number };
      if (listCheckpoints(ckDir).length && (prev.settingsHash !== hash || prev.datasetHash !== dataset.hash)) {
        throw new Error(`the run folder ${opts.runDir} holds a run with other ${prev.settingsHash !== hash ? 'settings or model' : 'training images or captions'}; resume it with the same ones, or use a new folder`);
      }
      startedAt = prev.startedAt;
    } catch (e) {
      if (!(e instanceof SyntaxError) && (e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    writeFileAtomic(runJson, new TextEncoder().encode(JSON.stringify({ settings: s, settingsHash: hash, datasetHash: dataset.hash, bundle: { name: m.name, hash: engine.bundle.hash, dir: opts.bundleDir }, datasetDir: opts.datasetDir, startedAt, items: dataset.items.map(({ name, imageSha256, caption }) => ({ name, imageSha256, caption })) }, null, 2)), io);

    const data = await prepareItems(engine.bundle, dataset.items, path.join(opts.runDir, 'cache'), {
      signal: opts.signal,
      io,
      condition: s.condition,
      onItem: (done, total) => hooks.onStage?.('prepare', done, total),
    });

    // Resume from the newest checkpoint that reads back whole and belongs to this run.
    let resumed: LoraCheckpointData | null = null;
    let resumedFrom: number | null = null;
    const skipped: string[] = [];
    for (const c of listCheckpoints(ckDir).reverse()) {
      try {
        const d = decodeLoraFile(m, readFileSync(c.path), c.path);
        if (!d.state || d.state.settingsHash !== hash || d.state.datasetHash !== dataset.hash) throw new Error('it belongs to another run');
        if (d.state.step !== c.step || d.state.adamStep !== c.step || d.weights.rank !== s.rank) throw new Error('its state does not match its name');
        resumed = d;
        resumedFrom = c.step;
        hooks.onResume?.({ step: c.step, path: c.path, skipped });
        log(`resuming from ${c.path} (step ${c.step})`);
        break;
      } catch (e) {
        skipped.push(`${path.basename(c.path)}: ${(e as Error).message}`);
        log(`skipping checkpoint ${c.path}: ${(e as Error).message}`);
      }
    }
    const loop = new LoraLoop(
      graph,
      data,
      s,
      resumed?.state
        ? {
            step: resumed.state.step,
            params: resumed.weights.down.flatMap((d, i) => [d, resumed!.weights.up[i]!]),
            expAvg: resumed.expAvg!,
            expAvgSq: resumed.expAvgSq!,
            losses: resumed.state.losses,
          }
        : undefined,
    );

    const metadata = (step: number) => loraMetadata(s, { engine, dataset, step, startedAt, outputName: path.basename(opts.output ?? 'lora.safetensors', '.safetensors') });
    const checkpoints: string[] = listCheckpoints(ckDir).map((c) => c.path);
    const saveCheckpoint = () => {
      hooks.onStage?.('save', loop.step, s.steps);
      const state: ResumeState = { step: loop.step, adamStep: loop.opt.t, settingsHash: hash, datasetHash: dataset.hash, losses: loop.losses, rng: { seed: s.seed, scheme: 'atelier-lora-draws-v1' } };
      const bytes = encodeLoraFile(graph!.targets, { weights: loop.weights(), expAvg: loop.opt.expAvg, expAvgSq: loop.opt.expAvgSq, state, metadata: metadata(loop.step) });
      const file = path.join(ckDir, checkpointName(loop.step));
      try {
        writeFileAtomic(file, bytes, io);
      } catch (e) {
        if (!(e instanceof DiskWriteError)) throw e;
        const kept = listCheckpoints(ckDir).at(-1);
        throw new DiskWriteError(
          `${e.message}. Training stopped at step ${loop.step}; ${kept ? `the last checkpoint (step ${kept.step}) is kept` : 'no checkpoint was written yet'}. Free some space and start the run again to resume.`,
          e.code,
        );
      }
      hooks.onCheckpoint?.({ step: loop.step, path: file, sha256: sha256(bytes), bytes: bytes.length });
      if (!checkpoints.includes(file)) checkpoints.push(file);
      // Only now that the new one is on disk do the oldest go.
      const all = listCheckpoints(ckDir);
      for (const old of all.slice(0, Math.max(0, all.length - s.keepCheckpoints))) {
        rmSync(old.path, { force: true });
        checkpoints.splice(checkpoints.indexOf(old.path), 1);
        hooks.onCheckpointRemoved?.(old);
      }
    };
    const sampleFile = (step: number, i: number) => path.join(sampleDir, `step-${pad(step)}-${i}.png`);
    // A cancel during sampling skips the rest of the samples (the loop then stops with a checkpoint);
    // a resumed run makes the samples its step should have and lacks.
    const samples = async () => {
      for (let i = 0; i < s.samplePrompts.length; i++) {
        if (opts.signal?.aborted) return;
        const file = sampleFile(loop.step, i);
        hooks.onStage?.('sample', i, s.samplePrompts.length);
        const prompt = s.samplePrompts[i]!;
        let png: Uint8Array;
        try {
          const r = await engine.textToImage({ prompt, seed: s.sampleSeed, steps: s.sampleSteps, loras: [{ weights: loop.weights(), weight: 1, name: 'training' }], signal: opts.signal });
          png = r.images[0]!.png;
        } catch (e) {
          if (opts.signal?.aborted) return;
          throw e;
        }
        writeFileAtomic(file, png, io);
        await hooks.onSample?.({ step: loop.step, index: i, prompt, seed: s.sampleSeed, path: file, png });
      }
    };

    const sampleDue = loop.step === 0 || (s.sampleEvery > 0 && loop.step % s.sampleEvery === 0 && loop.step < s.steps);
    if (sampleDue && s.samplePrompts.some((_, i) => !existsSync(sampleFile(loop.step, i)))) await samples();
    const t0 = performance.now();
    let stepsHere = 0;
    let status: TrainResult['status'] = 'done';
    while (loop.step < s.steps) {
      if (opts.signal?.aborted) {
        status = 'cancelled';
        break;
      }
      const r = await loop.trainStep();
      stepsHere++;
      const stepsPerSecond = stepsHere / ((performance.now() - t0) / 1000);
      hooks.onStep?.({ ...r, stepsPerSecond });
      hooks.onStage?.('train', loop.step, s.steps);
      if (loop.step % s.checkpointEvery === 0 || loop.step === s.steps) saveCheckpoint();
      if (s.sampleEvery > 0 && loop.step % s.sampleEvery === 0 && loop.step !== s.steps) await samples();
    }
    const stepsPerSecond = stepsHere ? stepsHere / ((performance.now() - t0) / 1000) : 0;
    if (status === 'cancelled') {
      // Keep what was learned: a checkpoint at the step reached (unless one was just written).
      if (!listCheckpoints(ckDir).some((c) => c.step === loop.step) && loop.step > 0) saveCheckpoint();
      return { status, step: loop.step, losses: loop.losses, output: null, resumedFrom, checkpoints, stepsPerSecond, dataset: { count: data.length, hash: dataset.hash } };
    }
    await samples();
    const final = encodeLoraFile(graph.targets, { weights: loop.weights(), metadata: { ...metadata(loop.step), ss_training_finished_at: String(Date.now() / 1000) } });
    const runLora = path.join(opts.runDir, 'lora.safetensors');
    writeFileAtomic(runLora, final, io);
    if (opts.output) writeFileAtomic(path.resolve(opts.output), final, io);
    return { status, step: loop.step, losses: loop.losses, output: opts.output ? path.resolve(opts.output) : runLora, resumedFrom, checkpoints, stepsPerSecond, dataset: { count: data.length, hash: dataset.hash } };
  } finally {
    await graph?.release();
    await engine.dispose();
  }
}
