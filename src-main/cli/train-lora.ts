// `atelier train-lora DATASET --steps N -o my.safetensors [options]`: trains a LoRA on a folder of
// images with same-name .txt captions (src-main/trainer). Running the same command again after a
// crash, kill or Ctrl-C resumes from the run folder's last checkpoint.
// Also the `--lora file.safetensors[:weight]` option of the generation commands.
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { AppliedLora, BundleManifest } from '../engine';
import { defaultModelDir, HOW_TO_GET_DEFAULT_MODEL } from '../engine/models';
import { DEFAULT_SETTINGS, readLoraFile, runTraining } from '../trainer';
import type { TrainSettings } from '../trainer';

const USAGE = `usage: atelier train-lora DATASET -o my.safetensors [options]
  DATASET is a folder of images (png, jpg, webp) with same-name .txt captions.
options (defaults in brackets):
  --steps N             optimizer updates [${DEFAULT_SETTINGS.steps}]
  --rank N --alpha X    LoRA rank and alpha [${DEFAULT_SETTINGS.rank}, ${DEFAULT_SETTINGS.alpha}]
  --batch N             images per update [${DEFAULT_SETTINGS.batch}]
  --lr X                learning rate [${DEFAULT_SETTINGS.learningRate}]
  --warmup N            warm-up updates [${DEFAULT_SETTINGS.warmupSteps}]
  --schedule S          cosine or constant [${DEFAULT_SETTINGS.schedule}]
  --seed N              [${DEFAULT_SETTINGS.seed}]
  --trigger WORD        put in front of every caption
  --sample "prompt"     sample prompt (repeatable), at step 0, every --sample-every and at the end
  --sample-every N      [${DEFAULT_SETTINGS.sampleEvery}]
  --checkpoint-every N  [${DEFAULT_SETTINGS.checkpointEvery}]   --keep N  checkpoints kept [${DEFAULT_SETTINGS.keepCheckpoints}]
  --condition C         sampled (the AR's own samples for the caption, as at generation; far
                        better for new concepts, docs/lora.md) or own-codes (the AR teacher-forced
                        on each image's codes) [${DEFAULT_SETTINGS.condition}]
  --run-dir DIR         checkpoints, samples and cache [next to the output: NAME.lora-run/]
  --model DIR           model bundle (needs LoRA graphs) [resources/models/atelier-nano]
  --threads N           CPU threads
  --quiet               no progress bar`;

class CliUsageError extends Error {}

function number(raw: string | undefined, name: string, integer: boolean): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw new CliUsageError(`--${name} must be ${integer ? 'an integer' : 'a number'} (got '${raw}')`);
  }
  return n;
}

/** "file.safetensors:0.8" → file and weight (default 1); the weight is the part after the last colon. */
export function parseLoraSpec(spec: string): { file: string; weight: number } {
  const at = spec.lastIndexOf(':');
  if (at > 0) {
    const tail = spec.slice(at + 1);
    const w = Number(tail);
    if (tail.trim() !== '' && Number.isFinite(w)) return { file: spec.slice(0, at), weight: w };
  }
  return { file: spec, weight: 1 };
}

export function loadCliLoras(specs: readonly string[] | undefined, m: BundleManifest): AppliedLora[] {
  return (specs ?? []).map((s) => {
    const { file, weight } = parseLoraSpec(s);
    return { weights: readLoraFile(m, file), weight, name: path.basename(file) };
  });
}

function bar(done: number, total: number, width = 24): string {
  const filled = Math.round((total ? done / total : 0) * width);
  return '█'.repeat(filled) + '░'.repeat(width - filled);
}

export async function trainLoraMain(argv: string[], log: (s: string) => void): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      output: { type: 'string', short: 'o' },
      steps: { type: 'string' },
      rank: { type: 'string' },
      alpha: { type: 'string' },
      batch: { type: 'string' },
      lr: { type: 'string' },
      warmup: { type: 'string' },
      schedule: { type: 'string' },
      seed: { type: 'string' },
      trigger: { type: 'string' },
      sample: { type: 'string', multiple: true },
      'sample-every': { type: 'string' },
      'checkpoint-every': { type: 'string' },
      keep: { type: 'string' },
      'run-dir': { type: 'string' },
      condition: { type: 'string' },
      model: { type: 'string' },
      threads: { type: 'string' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return log(USAGE);
  if (positionals.length !== 1) throw new CliUsageError(`train-lora takes one DATASET folder (got ${positionals.length})\n${USAGE}`);
  if (!values.output) throw new CliUsageError('train-lora needs -o OUT.safetensors');
  if (values.condition !== undefined && values.condition !== 'own-codes' && values.condition !== 'sampled') throw new CliUsageError(`--condition must be own-codes or sampled (got '${values.condition}')`);
  if (values.schedule !== undefined && values.schedule !== 'cosine' && values.schedule !== 'constant') throw new CliUsageError(`--schedule must be cosine or constant (got '${values.schedule}')`);
  const settings: Partial<TrainSettings> = {
    steps: number(values.steps, 'steps', true),
    rank: number(values.rank, 'rank', true),
    alpha: number(values.alpha, 'alpha', false),
    batch: number(values.batch, 'batch', true),
    learningRate: number(values.lr, 'lr', false),
    warmupSteps: number(values.warmup, 'warmup', true),
    schedule: values.schedule as TrainSettings['schedule'] | undefined,
    seed: number(values.seed, 'seed', true),
    trigger: values.trigger,
    samplePrompts: values.sample,
    sampleEvery: number(values['sample-every'], 'sample-every', true),
    checkpointEvery: number(values['checkpoint-every'], 'checkpoint-every', true),
    keepCheckpoints: number(values.keep, 'keep', true),
    condition: values.condition as TrainSettings['condition'] | undefined,
  };
  const threads = number(values.threads, 'threads', true);
  const bundleDir = values.model ?? defaultModelDir();
  if (!bundleDir) throw new Error(HOW_TO_GET_DEFAULT_MODEL);
  const output = path.resolve(values.output);
  const runDir = values['run-dir'] ?? output.replace(/\.safetensors$/i, '') + '.lora-run';
  const tty = Boolean(process.stderr.isTTY) && !values.quiet;
  const ac = new AbortController();
  const onSigint = (): void => {
    log('\nstopping after this step (a checkpoint keeps the progress; run the same command to resume)…');
    ac.abort();
  };
  process.once('SIGINT', onSigint);
  let lastLine = 0;
  try {
    const r = await runTraining({
      bundleDir,
      datasetDir: positionals[0]!,
      runDir,
      output,
      settings,
      threads,
      signal: ac.signal,
      hooks: {
        onStage: (stage, done, total) => {
          if (stage === 'prepare' && !values.quiet) log(`preparing images ${done}/${total}`);
        },
        onResume: (x) => log(`resuming from step ${x.step} (${x.path})${x.skipped.length ? `; skipped: ${x.skipped.join('; ')}` : ''}`),
        onStep: (s) => {
          if (values.quiet) return;
          const total = settings.steps ?? DEFAULT_SETTINGS.steps;
          const eta = s.stepsPerSecond > 0 ? (total - s.step) / s.stepsPerSecond : 0;
          const line = `train ${bar(s.step, total)} ${String(s.step).padStart(5)}/${total}  loss ${s.loss.toFixed(4)}  lr ${s.lr.toExponential(1)}  ${s.stepsPerSecond.toFixed(1)} it/s  ETA ${eta.toFixed(0)}s`;
          if (tty) process.stderr.write(`\r${line}`);
          else if (s.step === total || performance.now() - lastLine > 5000) {
            lastLine = performance.now();
            log(line);
          }
        },
        onSample: (x) => log(`${tty ? '\n' : ''}sample at step ${x.step}: ${x.path}`),
      },
    });
    if (tty) process.stderr.write('\n');
    if (r.status === 'cancelled') {
      log(`stopped at step ${r.step}; checkpoints in ${path.join(runDir, 'checkpoints')}. Run the same command to resume.`);
      return;
    }
    log(`wrote ${r.output} (${r.step} steps, loss ${r.losses[0]?.toFixed(4)} → ${r.losses.at(-1)?.toFixed(4)}, ${r.stepsPerSecond.toFixed(1)} steps/s${r.resumedFrom !== null ? `, resumed from step ${r.resumedFrom}` : ''})`);
    log(`use it: atelier generate "${settings.trigger ? settings.trigger + ', ' : ''}…" --lora ${values.output}:1.0 -o out.png`);
  } finally {
    process.off('SIGINT', onSigint);
  }
}

export { CliUsageError };
