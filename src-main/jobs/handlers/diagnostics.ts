// Built-in job kinds for checking the job system itself (tests, the studio's diagnostics):
// - diagnostics.count  {n, delayMs, preview?} counts to n, one progress event per step, honours
//                      cancel. Its result says how many count jobs this worker has run, which
//                      shows module state (like a cached model) surviving between jobs.
// - diagnostics.fail   {message} fails with that message.
// - diagnostics.spin   {ms} blocks the worker thread for ms, ignoring cancel (like one long native
//                      call), to exercise the queue's terminate-after-grace path.
// - diagnostics.crash  {mode: 'exit' | 'throw' | 'oom'} kills the worker thread the way real crashes do.
import { setTimeout as sleep } from 'node:timers/promises';
import { greyscalePng } from '../../engine/image/png-chunks';
import type { HandlerTable, JobContext } from '../types';

export interface CountParams {
  n: number;
  delayMs?: number;
  /** Also send a 1×1 grey PNG preview each step. */
  preview?: boolean;
}

function checkCount(params: unknown): Required<CountParams> {
  const p = (params ?? {}) as Partial<CountParams>;
  if (!Number.isInteger(p.n) || (p.n as number) < 0 || (p.n as number) > 1_000_000) {
    throw new Error('diagnostics.count needs an integer n between 0 and 1000000');
  }
  const delayMs = p.delayMs ?? 0;
  if (typeof delayMs !== 'number' || !(delayMs >= 0 && delayMs <= 60_000)) {
    throw new Error('diagnostics.count needs delayMs between 0 and 60000');
  }
  return { n: p.n as number, delayMs, preview: p.preview === true };
}

/** Module state lives as long as the worker: the same place a handler would cache a loaded model. */
let countJobsInThisWorker = 0;

async function count(params: unknown, ctx: JobContext): Promise<{ counted: number; workerRuns: number }> {
  const { n, delayMs, preview } = checkCount(params);
  countJobsInThisWorker++;
  ctx.log(`counting to ${n}`);
  for (let i = 1; i <= n; i++) {
    // Rejects as soon as the job is cancelled, so a cancel takes effect within the current step.
    await sleep(delayMs, undefined, { signal: ctx.signal });
    ctx.progress(i, n, 'counting');
    if (preview) ctx.preview(greyPixelPng(Math.round((255 * i) / n)));
  }
  return { counted: n, workerRuns: countJobsInThisWorker };
}

async function spin(params: unknown): Promise<{ spunMs: number }> {
  const ms = (params as { ms?: unknown } | null)?.ms;
  if (typeof ms !== 'number' || !(ms >= 0 && ms <= 60_000)) throw new Error('diagnostics.spin needs ms between 0 and 60000');
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // busy on purpose: nothing else runs on this thread meanwhile
  }
  return { spunMs: ms };
}

async function fail(params: unknown): Promise<never> {
  const message = (params as { message?: unknown } | null)?.message;
  throw new Error(typeof message === 'string' && message !== '' ? message : 'diagnostics.fail was asked to fail');
}

async function crash(params: unknown): Promise<never> {
  const mode = (params as { mode?: unknown } | null)?.mode ?? 'exit';
  if (mode === 'exit') process.exit(3); // in a worker this ends the thread only
  if (mode === 'throw') {
    // Thrown outside the handler's promise chain: an uncaught exception in the worker.
    setTimeout(() => {
      throw new Error('diagnostics.crash: uncaught error in the worker');
    }, 0);
    return new Promise<never>(() => {});
  }
  if (mode === 'oom') {
    const hoard: number[][] = [];
    for (;;) hoard.push(new Array(1_000_000).fill(hoard.length));
  }
  throw new Error(`diagnostics.crash: unknown mode ${JSON.stringify(mode)}`);
}

/** A valid 1×1 8-bit greyscale PNG. */
export function greyPixelPng(level: number): Uint8Array {
  return greyscalePng(1, 1, () => level);
}

export const handlers: HandlerTable = {
  'diagnostics.count': count,
  'diagnostics.fail': fail,
  'diagnostics.spin': spin,
  'diagnostics.crash': crash,
};
