import { useState } from 'react';
import { describeError } from '../api/client';
import type { JobView, JobsState } from '../hooks/useJobs';

const labels: Record<JobView['state'], string> = {
  queued: 'queued',
  running: 'running',
  done: 'done',
  failed: 'failed',
  cancelled: 'cancelled',
};

function JobCard({ job, cancel }: { job: JobView; cancel: (jobId: string) => Promise<void> }) {
  const [error, setError] = useState<string | null>(null);
  const active = job.state === 'queued' || job.state === 'running';
  return (
    <li className={`job job-${job.state}`} data-testid="job" data-job-id={job.jobId} data-state={job.state}>
      <div className="job-head">
        <span className="job-kind">{job.kind}</span>
        <span className={`badge badge-${job.state}`} data-testid="job-state">{labels[job.state]}</span>
      </div>
      <progress max={job.total || 1} value={job.total ? job.done : 0} aria-label="progress" />
      <div className="job-meta" data-testid="job-progress">
        {job.total > 0 ? `${job.done} / ${job.total}` : active ? 'waiting…' : ''} {job.stage}
      </div>
      {job.preview && <img className="job-preview" src={job.preview} alt="preview" data-testid="job-preview" />}
      {job.message && <p className="job-message">{job.message}</p>}
      {error && <p className="error">{error}</p>}
      {active && (
        <button type="button" onClick={() => cancel(job.jobId).catch((e: unknown) => setError(describeError(e)))}>
          Cancel
        </button>
      )}
    </li>
  );
}

export function JobsPanel({ jobs }: { jobs: JobsState }) {
  return (
    <section className="panel jobs-panel" aria-label="Jobs">
      <h2>Jobs</h2>
      {jobs.jobs.length === 0 ? <p className="muted">No jobs yet.</p> : (
        <ul className="job-list">
          {jobs.jobs.map((job) => <JobCard key={job.jobId} job={job} cancel={jobs.cancel} />)}
        </ul>
      )}
    </section>
  );
}
