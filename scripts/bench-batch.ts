// The batch part of `npm run bench`: images per minute through `runBatch` (prompt rows → PNG files
// with temp + fsync + rename, rows committed in SQLite, manifest at the end) against the engine
// alone making the same images (same prompts, seeds and steps) in the same process. The difference
// is the batch's overhead; the goal is under 5%. The engine runs are split around the batch run so
// that a machine that speeds up or slows down during the bench biases neither side.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { engineGenerator } from '../src-main/batch/generator';
import { createBatch } from '../src-main/batch/plan';
import { runBatch } from '../src-main/batch/runner';
import type { PlannedRow } from '../src-main/batch/plan';
import { openStore } from '../src-main/store';

export interface BatchBenchResult {
  rows: number;
  steps: number | null;
  engine_images_per_min: number;
  engine_ms_per_image_median: number;
  batch_images_per_min: number;
  batch_ms_per_image: number;
  /** Batch time per image minus engine time per image: what saving costs, whatever the model's speed. */
  overhead_ms_per_image: number;
  overhead_pct: number;
  goal_overhead_pct: number;
}

const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;

export async function benchBatch(model: string, opts: { rows: number; steps?: number; threads: number }): Promise<BatchBenchResult> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-bench-batch-'));
  const store = openStore({ dataDir: path.join(tmp, 'data') });
  const generator = engineGenerator({ defaultModel: model, executionProvider: 'cpu', threads: opts.threads });
  try {
    const prompts = Array.from({ length: opts.rows }, (_, i) => `a red apple on a blue background, take ${i}`);
    const rows: PlannedRow[] = prompts.map((prompt, i) => ({ prompt, seed: 500 + i, steps: opts.steps }));
    const signal = new AbortController().signal;
    await generator.generate({ prompt: 'warm-up', seed: 1, steps: opts.steps }, signal);

    // Engine alone: the same images, nothing saved. Half before the batch, half after.
    const engineMs: number[] = [];
    let engineWall = 0;
    const engineRun = async (slice: PlannedRow[]) => {
      const t = performance.now();
      for (const row of slice) engineMs.push((await generator.generate(row, signal)).engineMs ?? 0);
      engineWall += performance.now() - t;
    };
    const half = Math.floor(rows.length / 2);
    await engineRun(rows.slice(0, half));

    const list = prompts.map((p, i) => JSON.stringify({ prompt: p, seed: 500 + i })).join('\n');
    const { batch } = createBatch(store, {
      text: list,
      fileName: 'bench.jsonl',
      baseDir: tmp,
      options: { outDir: path.join(tmp, 'out'), format: 'png', template: '{index}-{prompt-slug}', steps: opts.steps, model },
      modelNameOf: () => 'bench',
    });
    const t = performance.now();
    const end = await runBatch({ store, batchId: batch.id, generate: generator.generate });
    const batchWall = performance.now() - t;
    if (end.done !== rows.length) throw new Error(`batch bench: ${end.done} of ${rows.length} rows done (${end.failed} failed)`);

    await engineRun(rows.slice(half));
    const perImageEngine = engineWall / rows.length;
    const perImageBatch = batchWall / rows.length;
    const sorted = [...engineMs].sort((a, b) => a - b);
    return {
      rows: rows.length,
      steps: opts.steps ?? null,
      engine_images_per_min: round(60_000 / perImageEngine),
      engine_ms_per_image_median: round(sorted[sorted.length >> 1]!, 2),
      batch_images_per_min: round(60_000 / perImageBatch),
      batch_ms_per_image: round(perImageBatch, 2),
      overhead_ms_per_image: round(perImageBatch - perImageEngine, 2),
      overhead_pct: round(((perImageBatch - perImageEngine) / perImageEngine) * 100, 2),
      goal_overhead_pct: 5,
    };
  } finally {
    await generator.dispose();
    store.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

// Alone: node --import tsx scripts/bench-batch.ts [--model DIR] [--rows N] [--steps N] [--threads N]
if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const { parseArgs } = await import('node:util');
  const { values } = parseArgs({ options: { model: { type: 'string' }, rows: { type: 'string', default: '24' }, steps: { type: 'string' }, threads: { type: 'string', default: '2' } } });
  const model = values.model ?? new URL('../tests/fixtures/bundle-fixture', import.meta.url).pathname;
  const result = await benchBatch(model, { rows: Number(values.rows), steps: values.steps ? Number(values.steps) : undefined, threads: Number(values.threads) });
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
}
