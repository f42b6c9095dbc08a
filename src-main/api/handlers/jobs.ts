// Job routes and the mapping of the queue's events onto the contract's job events.
import type { AtelierEvent, JobEvent, JobSubmission, JobSummary } from '../../../src-shared/contract';
import { ApiError, AtelierEvent as AtelierEventSchema } from '../../../src-shared/contract';
import type { JobEvent as QueueEvent, JobInfo, JobQueueApi } from '../../jobs/types';

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

export function toContractJobEvent(event: QueueEvent, at = Date.now()): JobEvent {
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
      return { type: 'result', jobId: event.jobId, at, result: event.result };
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
): () => void {
  return jobs.onEvent((queueEvent) => {
    const checked = AtelierEventSchema.safeParse({ name: 'jobs.event', data: toContractJobEvent(queueEvent) });
    if (checked.success) send(checked.data);
    else onBadEvent(checked.error);
  });
}

export function jobsHandlers(jobs: JobQueueApi) {
  return {
    'jobs.submit': ({ kind, params }: JobSubmission) => {
      try {
        return { jobId: jobs.submit(kind, params) };
      } catch (error) {
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
