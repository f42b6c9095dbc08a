// Job routes and the mapping of the queue's events onto the contract's job events.
import type { AtelierEvent, JobEvent, JobSubmission, JobSummary } from '../../../src-shared/contract';
import { ApiError, AtelierEvent as AtelierEventSchema } from '../../../src-shared/contract';
import type { JobEvent as QueueEvent, JobInfo, JobQueueApi } from '../../jobs/types';
import type { ImageJobs } from '../image-jobs';
import { isImageSubmission } from '../image-jobs';

const stateOf = { queued: 'queued', running: 'running', done: 'done', failed: 'failed', cancelled: 'cancelled' } as const;

export function toJobSummary(job: JobInfo): JobSummary {
  return {
    jobId: job.id,
    kind: job.kind,
    state: stateOf[job.status],
    progress: job.progress ? { ...job.progress } : null,
    error: job.error ? { code: job.error.code, message: job.error.message } : null,
    createdAt: job.createdAt,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
  };
}

function pngDataUrl(png: Uint8Array): string {
  return `data:image/png;base64,${Buffer.from(png.buffer, png.byteOffset, png.byteLength).toString('base64')}`;
}

/** Results cross JSON (browser mode): binary parts are summarised, not sent. */
function jsonSafe(value: unknown, depth = 0): unknown {
  if (value instanceof Uint8Array) return { bytes: value.byteLength };
  if (depth > 8 || value === null || typeof value !== 'object') {
    return typeof value === 'bigint' || typeof value === 'function' || typeof value === 'symbol' ? String(value) : value;
  }
  if (Array.isArray(value)) return value.map((item) => jsonSafe(item, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, jsonSafe(item, depth + 1)]));
}

/**
 * @param describeResult what a result event should say about the job's result (e.g. the history
 *   ids its images were saved under); undefined to send the result itself, made JSON-safe.
 */
export function toContractJobEvent(
  event: QueueEvent,
  at = Date.now(),
  describeResult: (jobId: string, result: unknown) => unknown = () => undefined,
): JobEvent {
  switch (event.type) {
    case 'queued':
      return { type: 'queued', jobId: event.jobId, at, kind: event.kind, position: event.position };
    case 'started':
      return { type: 'started', jobId: event.jobId, at, kind: event.kind };
    case 'progress':
      return { type: 'progress', jobId: event.jobId, at, done: event.done, total: event.total, stage: event.stage };
    case 'preview':
      return { type: 'preview', jobId: event.jobId, at, png: pngDataUrl(event.png) };
    case 'log':
      return { type: 'log', jobId: event.jobId, at, message: event.message };
    case 'result':
      return { type: 'result', jobId: event.jobId, at, result: describeResult(event.jobId, event.result) ?? jsonSafe(event.result) };
    case 'error':
      return { type: 'error', jobId: event.jobId, at, code: event.error.code, message: event.error.message };
    case 'cancelled':
      return { type: 'cancelled', jobId: event.jobId, at };
  }
}

/**
 * Forwards the queue's events, checked against the contract, to a host's sink (IPC or WebSocket).
 * An event that fails its schema is a bug in the core: it is reported, not sent.
 */
export function forwardJobEvents(
  jobs: JobQueueApi,
  send: (event: AtelierEvent) => void,
  onBadEvent: (error: unknown) => void = () => {},
  describeResult?: (jobId: string, result: unknown) => unknown,
): () => void {
  return jobs.onEvent((queueEvent) => {
    let event: JobEvent;
    try {
      event = toContractJobEvent(queueEvent, Date.now(), describeResult);
    } catch (error) {
      // Saving a result failed (disk full, …): the job is reported failed rather than done.
      event = { type: 'error', jobId: queueEvent.jobId, at: Date.now(), code: 'RESULT_NOT_SAVED', message: error instanceof Error ? error.message : String(error) };
      onBadEvent(error);
    }
    const checked = AtelierEventSchema.safeParse({ name: 'jobs.event', data: event });
    if (checked.success) send(checked.data);
    else onBadEvent(checked.error);
  });
}

export function jobsHandlers(jobs: JobQueueApi, imageJobs: ImageJobs) {
  return {
    'jobs.submit': (submission: JobSubmission) => {
      const { kind } = submission;
      try {
        if (isImageSubmission(submission)) {
          const prepared = imageJobs.prepare(submission);
          const jobId = jobs.submit(kind, prepared.params);
          imageJobs.remember(jobId, submission, prepared.parentId, prepared.executionProvider, prepared.loras);
          return { jobId };
        }
        return { jobId: jobs.submit(kind, submission.params) };
      } catch (error) {
        if (error instanceof ApiError) throw error;
        // The queue refuses kinds without a registered handler and submissions after close.
        throw new ApiError('UNAVAILABLE', `cannot run ${kind}: ${error instanceof Error ? error.message : String(error)}`);
      }
    },
    'jobs.cancel': ({ jobId }: { jobId: string }) => {
      const before = jobs.get(jobId);
      if (!before) throw new ApiError('NOT_FOUND', `no job ${jobId}`);
      if (!jobs.cancel(jobId)) {
        const now = jobs.get(jobId) ?? before;
        throw new ApiError('CONFLICT', `job ${jobId} already finished (${now.status})`);
      }
      const after = jobs.get(jobId);
      return { jobId, state: after ? stateOf[after.status] : 'cancelled' };
    },
    'jobs.list': () => ({ jobs: jobs.list().map(toJobSummary) }),
  };
}
