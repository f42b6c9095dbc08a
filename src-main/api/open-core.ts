// Opens the core's parts (store, job queue) for a host, and closes them in the right order.
import { JobQueue } from '../jobs/index';
import type { JobQueueOptions } from '../jobs/types';
import { openStore } from '../store/index';
import type { Core, ModelRoot } from './core';

export interface OpenCoreOptions {
  dataDir: string;
  version: string;
  modelRoots: ModelRoot[];
  imageUrl: (relativePath: string) => string;
  queue?: JobQueueOptions;
}

export interface OpenedCore {
  core: Core;
  close(): Promise<void>;
}

export function openCore(options: OpenCoreOptions): OpenedCore {
  const store = openStore({ dataDir: options.dataDir });
  let jobs: JobQueue;
  try {
    jobs = new JobQueue(options.queue ?? {});
  } catch (error) {
    store.close();
    throw error;
  }
  const core: Core = {
    store,
    jobs,
    version: options.version,
    modelRoots: options.modelRoots,
    imageUrl: options.imageUrl,
  };
  let closing: Promise<void> | null = null;
  return {
    core,
    close: () =>
      (closing ??= (async () => {
        try {
          await jobs.close();
        } finally {
          store.close();
        }
      })()),
  };
}
