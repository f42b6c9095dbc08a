// Jobs as the renderer sees them: the list from jobs.list, kept current by jobs.event.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { JobEvent, JobState, JobSubmission } from '../../src-shared/contract';
import { AtelierEvent } from '../../src-shared/contract';
import { atelier, unwrap } from '../api/client';

export interface JobView {
  jobId: string;
  kind: string;
  state: JobState;
  done: number;
  total: number;
  stage: string;
  preview: string | null;
  message: string | null;
  result: unknown;
  createdAt: number;
}

function applyEvent(jobs: Map<string, JobView>, event: JobEvent): Map<string, JobView> {
  const next = new Map(jobs);
  const current: JobView = jobs.get(event.jobId) ?? {
    jobId: event.jobId, kind: 'kind' in event ? event.kind : 'job', state: 'queued', done: 0, total: 0, stage: '',
    preview: null, message: null, result: undefined, createdAt: event.at,
  };
  let updated: JobView = current;
  switch (event.type) {
    case 'queued': updated = { ...current, kind: event.kind, state: 'queued' }; break;
    case 'started': updated = { ...current, kind: event.kind, state: 'running' }; break;
    case 'progress': updated = { ...current, state: 'running', done: event.done, total: event.total, stage: event.stage }; break;
    case 'preview': updated = { ...current, preview: event.png }; break;
    case 'log': updated = { ...current, message: event.message }; break;
    case 'result': updated = { ...current, state: 'done', result: event.result, message: null }; break;
    case 'error': updated = { ...current, state: 'failed', message: `${event.message} (${event.code})` }; break;
    case 'cancelled': updated = { ...current, state: 'cancelled' }; break;
  }
  next.set(event.jobId, updated);
  return next;
}

export interface JobsState {
  jobs: JobView[];
  submit(submission: JobSubmission): Promise<string>;
  cancel(jobId: string): Promise<void>;
  /** Called with each job that finishes with a result (to refresh history). */
  onResult(listener: (job: JobView) => void): () => void;
}

const resultListeners = new Set<(job: JobView) => void>();

export function useJobs(): JobsState {
  // The ref is the source of truth, updated synchronously per event; state mirrors it for rendering.
  const jobsRef = useRef<Map<string, JobView>>(new Map());
  const [jobs, setJobs] = useState<Map<string, JobView>>(jobsRef.current);

  // Events can arrive hundreds of times a second (previews): render at most once per frame.
  const frame = useRef<number | null>(null);
  const scheduleRender = useCallback(() => {
    if (frame.current !== null) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = null;
      setJobs(jobsRef.current);
    });
  }, []);

  useEffect(() => {
    const off = atelier().events.on((raw) => {
      const event = AtelierEvent.safeParse(raw);
      if (!event.success || event.data.name !== 'jobs.event') return;
      const jobEvent = event.data.data;
      jobsRef.current = applyEvent(jobsRef.current, jobEvent);
      scheduleRender();
      const job = jobsRef.current.get(jobEvent.jobId);
      if (jobEvent.type === 'result' && job) resultListeners.forEach((listener) => listener(job));
    });
    // Jobs that started before this page loaded.
    unwrap(atelier().jobs.list()).then(({ jobs: listed }) => {
      const next = new Map(jobsRef.current);
      for (const job of listed) {
        if (next.has(job.jobId)) continue;
        next.set(job.jobId, {
          jobId: job.jobId, kind: job.kind, state: job.state, done: job.progress?.done ?? 0, total: job.progress?.total ?? 0,
          stage: job.progress?.stage ?? '', preview: null, message: job.error ? `${job.error.message} (${job.error.code})` : null,
          result: undefined, createdAt: job.createdAt,
        });
      }
      jobsRef.current = next;
      setJobs(next);
    }, () => {});
    return () => {
      off();
      if (frame.current !== null) cancelAnimationFrame(frame.current);
      frame.current = null;
    };
  }, [scheduleRender]);

  const submit = useCallback(async (submission: JobSubmission) => {
    const { jobId } = await unwrap(atelier().jobs.submit(submission));
    return jobId;
  }, []);
  const cancel = useCallback(async (jobId: string) => {
    await unwrap(atelier().jobs.cancel({ jobId }));
  }, []);
  const onResult = useCallback((listener: (job: JobView) => void) => {
    resultListeners.add(listener);
    return () => {
      resultListeners.delete(listener);
    };
  }, []);

  const list = [...jobs.values()].sort((a, b) => b.createdAt - a.createdAt);
  return { jobs: list, submit, cancel, onResult };
}
