// Public types of the job system (src-main/jobs). The queue lives in the core (main thread);
// handlers run in a worker_threads worker. Params and results cross the thread boundary, so they
// must be structured-cloneable (plain objects, arrays, typed arrays, no functions/classes).

export type JobStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface JobProgress {
  done: number;
  total: number;
  stage: string;
}

/** A snapshot of a job, as returned by JobQueue.list()/get(). */
export interface JobInfo {
  id: string;
  kind: string;
  status: JobStatus;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  progress: JobProgress | null;
  /** Set when status is 'failed'. */
  error: JobError | null;
  /** Set when status is 'done'. */
  result?: unknown;
}

export type JobErrorCode =
  | 'HANDLER_ERROR' // the handler threw
  | 'WORKER_CRASHED' // the worker exited or died (uncaught error, process.exit, out of memory)
  | 'UNKNOWN_KIND' // no handler registered for the kind
  | 'INVALID_PARAMS' // params cannot be sent to the worker (not structured-cloneable)
  | 'QUEUE_CLOSED'; // the queue was closed while the job was queued or running

export interface JobError {
  code: JobErrorCode;
  message: string;
}

/** Everything the queue reports; every event names its job. */
export type JobEvent =
  | { type: 'queued'; jobId: string; kind: string; position: number }
  | { type: 'started'; jobId: string; kind: string }
  | { type: 'progress'; jobId: string; done: number; total: number; stage: string }
  | { type: 'preview'; jobId: string; png: Uint8Array }
  | { type: 'log'; jobId: string; message: string }
  | { type: 'result'; jobId: string; result: unknown }
  | { type: 'error'; jobId: string; error: JobError }
  | { type: 'cancelled'; jobId: string };

export type JobEventType = JobEvent['type'];
export type JobListener = (event: JobEvent) => void;

/** What a handler gets besides its params (inside the worker). */
export interface JobContext {
  readonly jobId: string;
  /** Aborted when the job is cancelled: check it (or signal.throwIfAborted()) at least once per step. */
  readonly signal: AbortSignal;
  progress(done: number, total: number, stage?: string): void;
  /** An encoded PNG of the current state; copied to the main thread. */
  preview(png: Uint8Array): void;
  log(message: string): void;
}

export type JobHandler<P = unknown, R = unknown> = (params: P, ctx: JobContext) => Promise<R>;

/** A handler module exports its handlers keyed by job kind. */
export type HandlerTable = Record<string, JobHandler<never, unknown>>;

/** How to start the worker script (see worker-url.ts). */
export interface WorkerEntry {
  url: URL;
  execArgv?: string[];
  /**
   * Dev only: a module whose `register()` installs a TypeScript loader in the worker before the
   * entry is imported (Node 20 workers do not inherit the parent's `--import tsx` hooks).
   */
  loaderUrl?: string;
}

export interface JobQueueOptions {
  /** How many jobs run at once; each runs in its own worker. Default 1. */
  concurrency?: number;
  /** Worker script; default from resolveWorkerEntry() in worker-url.ts. */
  workerEntry?: WorkerEntry;
  /** Passed to the worker (e.g. { maxOldGenerationSizeMb }) so an OOM kills only the worker. */
  resourceLimits?: { maxOldGenerationSizeMb?: number; maxYoungGenerationSizeMb?: number };
  /** How many finished jobs list() keeps (oldest dropped first). Default 200. */
  keepFinished?: number;
  /**
   * How many of those keep their result in memory (results may hold image bytes; the API layer
   * saves them from the 'result' event). Older finished jobs report `result: undefined`. Default 20.
   */
  keepResults?: number;
  /** A cancelled job whose handler has not stopped after this long has its worker terminated. Default 10 s. */
  cancelGraceMs?: number;
}

export interface JobQueueApi {
  /** Queue a job; throws for an unknown kind or a closed queue. Returns the job id. */
  submit(kind: string, params?: unknown): string;
  /** Cancel a queued (removed at once) or running (aborted in the worker) job. False if unknown or finished. */
  cancel(jobId: string): boolean;
  get(jobId: string): JobInfo | null;
  /** Queued and running jobs first (in queue order), then the most recent finished ones. */
  list(): JobInfo[];
  onEvent(listener: JobListener): () => void;
  /** Resolves when the job finishes; rejects with its JobError-bearing Error when it fails/cancels. */
  wait(jobId: string): Promise<unknown>;
  /** Cancels everything, terminates the workers. */
  close(): Promise<void>;
}
