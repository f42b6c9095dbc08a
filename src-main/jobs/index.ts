// The job system: a queue in the core, handlers in a worker thread. See types.ts for the API.
export { JobQueue, JobQueueError, JobFailedError } from './queue';
export { jobKinds } from './registry';
export { resolveWorkerEntry, BUILT_WORKER_NAME } from './worker-url';
export * from './types';
