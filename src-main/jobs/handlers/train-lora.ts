// Job handlers for `lora.train` and `lora.try` (issue 7), run inside the job worker: trains a LoRA with
// src-main/trainer and records the run in the store — status, metrics per step, checkpoints (the
// trainer keeps the last K on disk, the rows follow), samples — through the worker's own SQLite
// connection (WAL, so the main thread keeps reading while training writes). A job submitted again
// for the same run resumes from its last checkpoint.
import path from 'node:path';
import type { HandlerTable, JobContext } from '../types';
import { openStore } from '../../store';
import type { Store } from '../../store';
import { readLoraFile, runTraining } from '../../trainer';
import type { Engine } from '../../engine';
import { loadBundle } from '../../engine';
import type { TrainResult, TrainSettings } from '../../trainer';

export interface TrainLoraParams {
  modelDir: string;
  datasetDir: string;
  settings?: Partial<TrainSettings>;
  /** The data folder of the store: with it the run is recorded in SQLite. */
  dataDir?: string;
  /** An existing run row to (re)start; otherwise one is created for `projectId`. */
  runId?: string;
  projectId?: string;
  /** Checkpoints, samples and cache; default <dataDir>/lora-runs/<runId>. */
  runDir?: string;
  /** Also write the final LoRA here. */
  output?: string;
  threads?: number;
}

export interface TrainLoraResult {
  runId: string | null;
  status: TrainResult['status'];
  step: number;
  output: string | null;
  finalLoss: number | null;
  stepsPerSecond: number;
  resumedFrom: number | null;
}

/** Paths inside the data folder are stored relative to it (the folder can move). */
function storedPath(dataDir: string | undefined, p: string): string {
  if (!dataDir) return p;
  const rel = path.relative(dataDir, p);
  return rel.startsWith('..') || path.isAbsolute(rel) ? p : rel;
}

async function trainLora(params: TrainLoraParams, ctx: JobContext): Promise<TrainLoraResult> {
  if (!params.modelDir || !params.datasetDir) throw new Error('lora.train needs modelDir and datasetDir');
  let store: Store | null = null;
  let runId: string | null = params.runId ?? null;
  if (params.dataDir) {
    store = openStore({ dataDir: params.dataDir });
    if (!runId) {
      if (!params.projectId) throw new Error('lora.train with a dataDir needs a runId or a projectId');
      runId = store.loraRuns.create({ projectId: params.projectId, baseModel: params.modelDir, config: { ...params.settings, datasetDir: params.datasetDir }, totalSteps: params.settings?.steps ?? 500 }).id;
    } else if (!store.loraRuns.get(runId)) {
      store.close();
      throw new Error(`No LoRA run ${runId}`);
    }
  }
  const runDir = params.runDir ?? (params.dataDir && runId ? path.join(params.dataDir, 'lora-runs', runId) : null);
  if (!runDir) throw new Error('lora.train needs a runDir (or a dataDir to put the run in)');
  const runs = store?.loraRuns;
  try {
    if (runs && runId) runs.update(runId, { status: 'running', error: null });
    const total = params.settings?.steps;
    const r = await runTraining({
      bundleDir: params.modelDir,
      datasetDir: params.datasetDir,
      runDir,
      output: params.output,
      settings: params.settings ?? {},
      threads: params.threads,
      signal: ctx.signal,
      hooks: {
        onStage: (stage, done, all) => {
          if (stage !== 'train') ctx.progress(done, all, stage);
        },
        onResume: (x) => ctx.log(`resuming from step ${x.step}`),
        onStep: (s) => {
          ctx.progress(s.step, total ?? s.step, 'train');
          if (runs && runId) {
            runs.addMetrics(runId, [{ step: s.step, loss: s.loss, lr: s.lr, extra: { gradNorm: s.gradNorm, stepsPerSecond: s.stepsPerSecond } }]);
            runs.update(runId, { step: s.step });
          }
        },
        onCheckpoint: (c) => {
          if (runs && runId) runs.addCheckpoint(runId, { step: c.step, path: storedPath(params.dataDir, c.path), sha256: c.sha256, bytes: c.bytes });
        },
        onCheckpointRemoved: (c) => {
          if (runs && runId) runs.removeCheckpoint(runId, c.step);
        },
        onSample: (x) => {
          ctx.preview(x.png);
          if (runs && runId) runs.addSample(runId, { step: x.step, index: x.index, prompt: x.prompt, seed: x.seed, path: storedPath(params.dataDir, x.path) });
        },
        log: (m) => ctx.log(m),
      },
    });
    if (runs && runId) runs.update(runId, { status: r.status, step: r.step });
    if (r.status === 'cancelled') ctx.signal.throwIfAborted();
    return { runId, status: r.status, step: r.step, output: r.output, finalLoss: r.losses.at(-1) ?? null, stepsPerSecond: r.stepsPerSecond, resumedFrom: r.resumedFrom };
  } catch (e) {
    if (runs && runId) {
      const cancelled = ctx.signal.aborted;
      runs.update(runId, { status: cancelled ? 'cancelled' : 'failed', error: cancelled ? null : (e as Error).message });
    }
    throw e;
  } finally {
    store?.close();
  }
}

export const handlers: HandlerTable = {
  'lora.train': trainLora as HandlerTable[string],
};

// --- lora.try: one prompt and seed with the LoRA at a weight, and without it -------------------

export interface TryLoraParams {
  modelDir: string;
  loraFile: string;
  prompt: string;
  seed: number;
  weight: number;
  threads?: number;
}

export interface TryLoraResult {
  withLora: Uint8Array;
  without: Uint8Array;
}

// The loaded model stays between tries, so moving the weight slider never reloads it.
let cached: { dir: string; engine: Engine } | null = null;

async function tryLora(params: TryLoraParams, ctx: JobContext): Promise<TryLoraResult> {
  if (!cached || cached.dir !== params.modelDir) {
    await cached?.engine.dispose();
    cached = null;
    cached = { dir: params.modelDir, engine: await loadBundle(params.modelDir, { executionProvider: 'cpu', threads: params.threads }) };
  }
  const engine = cached.engine;
  const weights = readLoraFile(engine.manifest, params.loraFile);
  const run = async (weight: number) =>
    (await engine.textToImage({ prompt: params.prompt, seed: params.seed, loras: [{ weights, weight, name: path.basename(params.loraFile) }], signal: ctx.signal })).images[0]!.png;
  const withLora = await run(params.weight);
  const without = await run(0);
  return { withLora, without };
}

handlers['lora.try'] = tryLora as HandlerTable[string];
