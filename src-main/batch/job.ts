// The `batch.run` job (runs in the job worker): runs a batch's pending rows with the worker's
// cached engine (shared with single-image jobs), puts every image in the history and, when the
// batch has a folder, writes its files. Progress is rows done of the total; a failed row is logged
// and the batch goes on; cancel stops after the image in flight, and the batch can be resumed.
import type { HandlerTable, JobContext } from '../jobs/types';
import { engineFor } from '../jobs/handlers/generate';
import { ENGINE_VERSION } from '../engine';
import { openStore } from '../store';
import { engineGenerator } from './generator';
import { runBatch } from './runner';
import { findInstalledLora } from '../api/loras';

export interface BatchJobParams {
  dataDir: string;
  batchId: string;
  executionProvider?: string;
  threads?: number;
}

export interface BatchJobResult {
  batchId: string;
  status: string;
  total: number;
  done: number;
  failed: number;
}

async function run(params: unknown, ctx: JobContext): Promise<BatchJobResult> {
  const p = params as BatchJobParams;
  if (typeof p?.dataDir !== 'string' || typeof p.batchId !== 'string') throw new Error('batch.run needs { dataDir, batchId }');
  const store = openStore({ dataDir: p.dataDir });
  const generator = engineGenerator({
    // Relative image and LoRA paths of a dropped list have only the data folder to be relative to.
    baseDir: p.dataDir,
    engineFor: (dir) => engineFor({ prompt: '', modelDir: dir, executionProvider: p.executionProvider, threads: p.threads }),
    installedLora: (name) => findInstalledLora(store, name),
  });
  try {
    const end = await runBatch({
      store,
      batchId: p.batchId,
      generate: generator.generate,
      signal: ctx.signal,
      recordInHistory: true,
      software: `Atelier ${ENGINE_VERSION}`,
      onEvent: (e) => {
        if (e.type === 'start') ctx.progress(e.batch.done + e.batch.failed, e.batch.total, 'rows');
        else if (e.type === 'row') {
          ctx.progress(e.done + e.failed, e.total, `row ${e.row.index}`);
          if (e.row.status === 'failed') ctx.log(`line ${e.row.line} (row ${e.row.index}) failed: ${e.row.error}`);
        }
      },
    });
    return { batchId: end.id, status: end.status, total: end.total, done: end.done, failed: end.failed };
  } finally {
    await generator.dispose();
    store.close();
  }
}

export const handlers: HandlerTable = { 'batch.run': run };
