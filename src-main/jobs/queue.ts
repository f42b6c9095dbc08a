// The job queue in the core: FIFO, `concurrency` jobs at a time, each running in its own
// worker_threads worker. Workers are started on demand and kept between jobs; one that dies takes
// only its running job with it (failed with WORKER_CRASHED) and is replaced for the next job.
import { randomUUID } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import type { FromWorker, ToWorker } from './protocol';
import { jobKinds } from './registry';
import type {
  WorkerEntry,
  JobError,
  JobErrorCode,
  JobEvent,
  JobInfo,
  JobListener,
  JobQueueApi,
  JobQueueOptions,
} from './types';
import { resolveWorkerEntry } from './worker-url';

/** Thrown by submit(); `code` says why. */
export class JobQueueError extends Error {
  readonly code: JobErrorCode;
  constructor(code: JobErrorCode, message: string) {
    super(message);
    this.name = 'JobQueueError';
    this.code = code;
  }
}

/** What wait() rejects with. */
export class JobFailedError extends Error {
  readonly jobId: string;
  readonly status: 'failed' | 'cancelled';
  readonly error: JobError | null;
  constructor(jobId: string, status: 'failed' | 'cancelled', error: JobError | null) {
    super(status === 'cancelled' ? `Job ${jobId} was cancelled` : (error?.message ?? `Job ${jobId} failed`));
    this.name = 'JobFailedError';
    this.jobId = jobId;
    this.status = status;
    this.error = error;
  }
}

interface Slot {
  worker: Worker | null;
  jobId: string | null;
  /** Set when the running job was cancelled; the worker is terminated if it does not stop in time. */
  cancelTimer: NodeJS.Timeout | null;
}

const DEFAULT_CANCEL_GRACE_MS = 10_000;

export class JobQueue implements JobQueueApi {
  private readonly entry: WorkerEntry;
  private readonly slots: Slot[];
  private readonly jobs = new Map<string, JobInfo & { params: unknown }>();
  private readonly pending: string[] = [];
  private readonly finished: string[] = [];
  private readonly listeners = new Set<JobListener>();
  private readonly keepFinished: number;
  private readonly keepResults: number;
  private readonly cancelGraceMs: number;
  private closed = false;

  constructor(private readonly options: JobQueueOptions = {}) {
    const concurrency = options.concurrency ?? 1;
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error('concurrency must be a positive integer');
    this.entry = options.workerEntry ?? resolveWorkerEntry();
    this.slots = Array.from({ length: concurrency }, () => ({ worker: null, jobId: null, cancelTimer: null }));
    this.keepFinished = options.keepFinished ?? 200;
    this.keepResults = options.keepResults ?? 20;
    this.cancelGraceMs = options.cancelGraceMs ?? DEFAULT_CANCEL_GRACE_MS;
  }

  submit(kind: string, params: unknown = {}): string {
    if (this.closed) throw new JobQueueError('QUEUE_CLOSED', 'The job queue is closed');
    if (!jobKinds.has(kind)) throw new JobQueueError('UNKNOWN_KIND', `Unknown job kind ${JSON.stringify(kind)}`);
    try {
      // Refused here rather than failing later in the worker's postMessage.
      structuredClone(params);
    } catch (error) {
      throw new JobQueueError('INVALID_PARAMS', `The params of a ${kind} job cannot be sent to the worker: ${(error as Error).message}`);
    }
    const id = randomUUID();
    this.jobs.set(id, {
      id,
      kind,
      params,
      status: 'queued',
      createdAt: Date.now(),
      startedAt: null,
      finishedAt: null,
      progress: null,
      error: null,
    });
    this.pending.push(id);
    this.emit({ type: 'queued', jobId: id, kind, position: this.pending.length - 1 });
    // Started on the next tick, so the caller holds the id before any 'started' event.
    queueMicrotask(() => this.pump());
    return id;
  }

  cancel(jobId: string): boolean {
    const job = this.jobs.get(jobId);
    if (!job) return false;
    if (job.status === 'queued') {
      this.pending.splice(this.pending.indexOf(jobId), 1);
      this.finish(jobId, 'cancelled');
      return true;
    }
    if (job.status !== 'running') return false;
    const slot = this.slots.find((s) => s.jobId === jobId);
    if (!slot?.worker || slot.cancelTimer) return true;
    this.post(slot.worker, { type: 'cancel', jobId });
    // A handler that ignores its signal does not get to keep running: the worker goes.
    slot.cancelTimer = setTimeout(() => {
      if (slot.jobId !== jobId) return;
      this.discardWorker(slot);
      this.finish(jobId, 'cancelled');
      this.pump();
    }, this.cancelGraceMs);
    return true;
  }

  get(jobId: string): JobInfo | null {
    const job = this.jobs.get(jobId);
    return job ? snapshot(job) : null;
  }

  list(): JobInfo[] {
    const active = [...this.slots.flatMap((s) => (s.jobId ? [s.jobId] : [])), ...this.pending];
    const recent = [...this.finished].reverse();
    return [...active, ...recent].map((id) => snapshot(this.jobs.get(id)!));
  }

  onEvent(listener: JobListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  wait(jobId: string): Promise<unknown> {
    const job = this.jobs.get(jobId);
    if (!job) return Promise.reject(new Error(`Unknown job ${jobId}`));
    const settled = settledOutcome(job);
    if (settled) return settled;
    return new Promise((resolve, reject) => {
      const unsubscribe = this.onEvent((event) => {
        if (event.jobId !== jobId) return;
        if (event.type === 'result') resolve(event.result);
        else if (event.type === 'error') reject(new JobFailedError(jobId, 'failed', event.error));
        else if (event.type === 'cancelled') reject(new JobFailedError(jobId, 'cancelled', null));
        else return;
        unsubscribe();
      });
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const jobId of this.pending.splice(0)) this.finish(jobId, 'cancelled');
    const stopping: Promise<unknown>[] = [];
    for (const slot of this.slots) {
      const jobId = slot.jobId;
      if (slot.worker) stopping.push(slot.worker.terminate());
      this.discardWorker(slot);
      if (jobId) this.finish(jobId, 'cancelled');
    }
    await Promise.all(stopping);
  }

  private pump(): void {
    if (this.closed) return;
    for (const slot of this.slots) {
      if (slot.jobId || this.pending.length === 0) continue;
      const jobId = this.pending.shift()!;
      const job = this.jobs.get(jobId)!;
      let worker: Worker;
      try {
        worker = slot.worker ?? this.startWorker(slot);
      } catch (error) {
        this.finish(jobId, 'failed', { code: 'WORKER_CRASHED', message: `The job worker could not start: ${(error as Error).message}` });
        continue;
      }
      slot.jobId = jobId;
      job.status = 'running';
      job.startedAt = Date.now();
      worker.ref();
      this.emit({ type: 'started', jobId, kind: job.kind });
      this.post(worker, { type: 'run', jobId, kind: job.kind, params: job.params });
    }
  }

  private startWorker(slot: Slot): Worker {
    const { url, execArgv = [], loaderUrl } = this.entry;
    const workerOptions = { execArgv, resourceLimits: this.options.resourceLimits };
    const worker = loaderUrl
      ? new Worker(
          `import(${JSON.stringify(loaderUrl)}).then((loader) => { loader.register(); return import(${JSON.stringify(url.href)}); })`,
          { ...workerOptions, eval: true },
        )
      : new Worker(url, workerOptions);
    slot.worker = worker;
    let crash: string | null = null;
    worker.on('message', (message: FromWorker) => {
      if (slot.worker === worker) this.onWorkerMessage(slot, message);
    });
    worker.on('error', (error: Error & { code?: string }) => {
      crash =
        error.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? 'the worker ran out of memory'
          : `the worker stopped on an uncaught error: ${error.message}`;
    });
    worker.on('exit', (code) => {
      if (slot.worker !== worker) return; // replaced or terminated on purpose
      const jobId = slot.jobId;
      this.discardWorker(slot);
      if (jobId) {
        const why = crash ?? `the worker exited with code ${code}`;
        this.finish(jobId, 'failed', { code: 'WORKER_CRASHED', message: `Job ${jobId} failed: ${why}` });
      }
      this.pump();
    });
    return worker;
  }

  private onWorkerMessage(slot: Slot, message: FromWorker): void {
    const job = this.jobs.get(message.jobId);
    if (!job || slot.jobId !== message.jobId) return;
    switch (message.type) {
      case 'progress':
        job.progress = { done: message.done, total: message.total, stage: message.stage };
        this.emit(message);
        return;
      case 'preview':
      case 'log':
        this.emit(message);
        return;
      case 'result':
        this.release(slot);
        this.finish(job.id, 'done', null, message.result);
        break;
      case 'error':
        this.release(slot);
        this.finish(job.id, 'failed', { code: message.unknownKind ? 'UNKNOWN_KIND' : 'HANDLER_ERROR', message: message.message });
        break;
      case 'cancelled':
        this.release(slot);
        this.finish(job.id, 'cancelled');
        break;
    }
    this.pump();
  }

  /** The slot's job is over; its worker stays for the next one. */
  private release(slot: Slot): void {
    slot.jobId = null;
    if (slot.cancelTimer) clearTimeout(slot.cancelTimer);
    slot.cancelTimer = null;
    // An idle worker must not keep the process alive.
    slot.worker?.unref();
  }

  private discardWorker(slot: Slot): void {
    const worker = slot.worker;
    this.release(slot);
    slot.worker = null;
    if (worker) void worker.terminate();
  }

  private finish(jobId: string, status: 'done' | 'failed' | 'cancelled', error: JobError | null = null, result?: unknown): void {
    const job = this.jobs.get(jobId);
    if (!job || job.status === 'done' || job.status === 'failed' || job.status === 'cancelled') return;
    job.status = status;
    job.finishedAt = Date.now();
    job.error = error;
    job.params = undefined; // not needed any more; may be large
    if (status === 'done') job.result = result;
    this.finished.push(jobId);
    while (this.finished.length > this.keepFinished) this.jobs.delete(this.finished.shift()!);
    const older = this.finished[this.finished.length - 1 - this.keepResults];
    if (older !== undefined) delete this.jobs.get(older)!.result;
    if (status === 'done') this.emit({ type: 'result', jobId, result });
    else if (status === 'failed') this.emit({ type: 'error', jobId, error: error! });
    else this.emit({ type: 'cancelled', jobId });
  }

  private post(worker: Worker, message: ToWorker): void {
    worker.postMessage(message);
  }

  private emit(event: JobEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (error) {
        // One broken listener must not stop the queue or the other listeners.
        console.error('JobQueue listener failed:', error);
      }
    }
  }
}

function snapshot(job: JobInfo & { params: unknown }): JobInfo {
  const { params: _params, ...info } = job;
  return { ...info, progress: info.progress ? { ...info.progress } : null };
}

function settledOutcome(job: JobInfo): Promise<unknown> | null {
  if (job.status === 'done') return Promise.resolve(job.result);
  if (job.status === 'failed') return Promise.reject(new JobFailedError(job.id, 'failed', job.error));
  if (job.status === 'cancelled') return Promise.reject(new JobFailedError(job.id, 'cancelled', null));
  return null;
}
