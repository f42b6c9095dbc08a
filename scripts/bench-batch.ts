// The batch part of `npm run bench`: images per minute through `runBatch` (prompt rows → PNG files
// with temp + fsync + rename, rows committed in SQLite, manifest at the end) beside the engine's own
// per-image figure, and the overhead of batching (goal < 5%): the batch's wall time not spent inside
// the engine, over the engine's time in that same run. Measuring both in one run keeps a shared,
// busy machine from skewing the figure; the engine-alone loop is timed too for reference.
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
  /** The engine's own figure: 60 000 / median of its per-image time (GenerationResult.timings.totalMs). */
  engine_images_per_min: number;
  engine_ms_per_image_median: number;
  /** The same images made by the engine alone, one after another (wall clock). */
  engine_alone_images_per_min: number;
  /** Through runBatch: files written and fsync'd, rows committed, manifest written (wall clock). */
  batch_images_per_min: number;
  batch_ms_per_image: number;
  /**
   * Wall time of the batch not spent inside the engine, as a share of the engine's time in the same
   * run: what batching costs, measured in one run so a busy machine does not skew it.
   */
  overhead_pct: number;
  overhead_ms_per_image: number;
  /** The same measure for the engine-alone loop (JS between engine calls): the floor of the above. */
  engine_alone_idle_pct: number;
  /** Batch wall time against the engine-alone wall time (alternating rounds; noisy on a busy machine). */
  batch_vs_engine_alone_pct: number;
  /** The engine's mean time per image inside the batches and alone: how much the machine drifted. */
  engine_ms_per_image_in_batch: number;
  engine_ms_per_image_alone: number;
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

    // Rounds alternate the engine alone and a batch over the same images, so a machine that speeds
    // up or slows down during the bench weighs on both sides alike.
    const rounds = Math.max(1, Math.min(4, Math.floor(rows.length / 4)));
    const per = Math.ceil(rows.length / rounds);
    const aloneMs: number[] = [];
    let aloneWall = 0;
    let batchWall = 0;
    let batchEngine = 0;
    for (let r = 0; r < rounds; r++) {
      const slice = rows.slice(r * per, (r + 1) * per);
      if (!slice.length) break;
      let t = performance.now();
      for (const row of slice) aloneMs.push((await generator.generate(row, signal)).engineMs ?? 0);
      aloneWall += performance.now() - t;

      const list = slice.map((row) => JSON.stringify({ prompt: row.prompt, seed: row.seed })).join('\n');
      const { batch } = createBatch(store, {
        text: list,
        fileName: `bench-${r}.jsonl`,
        baseDir: tmp,
        options: { outDir: path.join(tmp, `out-${r}`), format: 'png', template: '{index}-{prompt-slug}', steps: opts.steps, model },
        modelNameOf: () => 'bench',
      });
      t = performance.now();
      const end = await runBatch({ store, batchId: batch.id, generate: generator.generate, onEvent: (e) => { if (e.type === 'end') batchEngine += e.engineMs; } });
      batchWall += performance.now() - t;
      if (end.done !== slice.length) throw new Error(`batch bench: ${end.done} of ${slice.length} rows done (${end.failed} failed)`);
    }

    const n = rows.length;
    const aloneEngine = aloneMs.reduce((x, y) => x + y, 0);
    const sorted = [...aloneMs].sort((a, b) => a - b);
    const median = sorted[sorted.length >> 1]!;
    return {
      rows: n,
      steps: opts.steps ?? null,
      engine_images_per_min: round(60_000 / median),
      engine_ms_per_image_median: round(median, 2),
      engine_alone_images_per_min: round((60_000 * n) / aloneWall),
      batch_images_per_min: round((60_000 * n) / batchWall),
      batch_ms_per_image: round(batchWall / n, 2),
      overhead_pct: round(((batchWall - batchEngine) / batchEngine) * 100, 2),
      overhead_ms_per_image: round((batchWall - batchEngine) / n, 2),
      engine_alone_idle_pct: round(((aloneWall - aloneEngine) / aloneEngine) * 100, 2),
      batch_vs_engine_alone_pct: round(((batchWall - aloneWall) / aloneWall) * 100, 2),
      goal_overhead_pct: 5,
      engine_ms_per_image_in_batch: round(batchEngine / n, 2),
      engine_ms_per_image_alone: round(aloneEngine / n, 2),
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
