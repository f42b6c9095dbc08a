// createApi(core): the route table over the store and the job queue, behind the funnel.
import type { HandlerTable, FunnelOptions, Invoke } from './funnel';
import { createFunnel } from './funnel';
import type { AtelierEvent } from '../../src-shared/contract';
import type { Core } from './core';
import { forwardJobEvents } from './handlers/jobs';
import { ImageJobs } from './image-jobs';
import { batchHandlers } from './handlers/batch';
import { historyHandlers } from './handlers/history';
import { imagesHandlers } from './handlers/images';
import { jobsHandlers } from './handlers/jobs';
import { loraHandlers } from './handlers/lora';
import { modelsHandlers } from './handlers/models';
import { settingsHandlers } from './handlers/settings';

export type { Core, ModelRoot } from './core';
export type { FunnelOptions, HandlerTable, Invoke } from './funnel';
export { createFunnel } from './funnel';
export { forwardJobEvents, toContractJobEvent } from './handlers/jobs';

export function createHandlers(core: Core, imageJobs = new ImageJobs(core)): HandlerTable {
  return {
    'app.info': () => ({
      name: 'Atelier',
      version: core.version,
      dataDir: core.store.dataDir,
      schemaVersion: core.store.schemaVersion,
    }),
    ...settingsHandlers(core.store.settings),
    ...jobsHandlers(core.jobs, imageJobs),
    ...historyHandlers(core.store.generations, core.imageUrl),
    ...modelsHandlers(core.modelRoots),
    ...imagesHandlers(),
    ...loraHandlers(core),
    ...batchHandlers(core),
  };
}

function textList(result: unknown, key: 'warnings' | 'notices'): string[] {
  const list = (result as Record<string, unknown> | null)?.[key];
  return Array.isArray(list) ? list.filter((item): item is string => typeof item === 'string').slice(0, 20) : [];
}

export interface Api {
  invoke: Invoke;
  handlers: HandlerTable;
  /** Sends every job event, checked against the contract, to a host's sink; returns unsubscribe. */
  forwardEvents(send: (event: AtelierEvent) => void, onBadEvent?: (error: unknown) => void): () => void;
  /** Stops recording results (call before closing the core). */
  close(): void;
}

export function createApi(core: Core, options: FunnelOptions): Api {
  const imageJobs = new ImageJobs(core);
  const handlers = createHandlers(core, imageJobs);
  const describeResult = (jobId: string, result: unknown) => {
    const generationIds = imageJobs.record(jobId, result);
    // What the engine changed about the request (a truncated prompt, a thresholded mask, an
    // ignored negative prompt) travels with the ids, so the studio can say so.
    return generationIds ? { generationIds, warnings: textList(result, 'warnings'), notices: textList(result, 'notices') } : undefined;
  };
  // Results are saved even when no window listens.
  const stopRecording = core.jobs.onEvent((event) => {
    if (event.type === 'result') {
      try {
        describeResult(event.jobId, event.result);
      } catch (error) {
        options.onInternalError?.('jobs.result', error);
      }
    } else if (event.type === 'error' || event.type === 'cancelled') {
      imageJobs.forget(event.jobId);
    }
  });
  return {
    handlers,
    invoke: createFunnel(handlers, options),
    forwardEvents: (send, onBadEvent) => forwardJobEvents(core.jobs, send, onBadEvent, describeResult),
    close: stopRecording,
  };
}
