// The worker thread that runs job handlers. It stays alive between jobs (so a handler module can
// keep a loaded model), runs what the queue sends, and reports back by job id. A crash here (an
// uncaught error, process.exit, running out of memory) ends only this thread; the queue fails the
// running job and starts a fresh worker for the next one.
import { parentPort } from 'node:worker_threads';
import type { FromWorker, ToWorker } from './protocol';
import { loadHandler } from './registry';
import type { JobContext } from './types';

const port = parentPort;
if (!port) throw new Error('src-main/jobs/worker.ts must run as a worker thread');

const running = new Map<string, AbortController>();

function send(message: FromWorker): void {
  port!.postMessage(message);
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

async function run(jobId: string, kind: string, params: unknown): Promise<void> {
  const controller = new AbortController();
  running.set(jobId, controller);
  const ctx: JobContext = {
    jobId,
    signal: controller.signal,
    progress: (done, total, stage = '') => send({ type: 'progress', jobId, done, total, stage }),
    preview: (png) => send({ type: 'preview', jobId, png: new Uint8Array(png) }),
    log: (message) => send({ type: 'log', jobId, message: String(message) }),
  };
  try {
    const handler = await loadHandler(kind);
    if (!handler) {
      send({ type: 'error', jobId, message: `No handler for job kind ${JSON.stringify(kind)}`, unknownKind: true });
      return;
    }
    const result = await handler(params, ctx);
    send(controller.signal.aborted ? { type: 'cancelled', jobId } : { type: 'result', jobId, result });
  } catch (error) {
    send(controller.signal.aborted ? { type: 'cancelled', jobId } : { type: 'error', jobId, message: describe(error) });
  } finally {
    running.delete(jobId);
  }
}

port.on('message', (message: ToWorker) => {
  if (message.type === 'run') void run(message.jobId, message.kind, message.params);
  else if (message.type === 'cancel') running.get(message.jobId)?.abort();
});
