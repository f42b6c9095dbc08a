// createApi(core): the route table over the store and the job queue, behind the funnel.
import type { HandlerTable, FunnelOptions, Invoke } from './funnel';
import { createFunnel } from './funnel';
import type { Core } from './core';
import { historyHandlers } from './handlers/history';
import { jobsHandlers } from './handlers/jobs';
import { modelsHandlers } from './handlers/models';
import { settingsHandlers } from './handlers/settings';

export type { Core, ModelRoot } from './core';
export type { FunnelOptions, HandlerTable, Invoke } from './funnel';
export { createFunnel } from './funnel';
export { forwardJobEvents, toContractJobEvent } from './handlers/jobs';

export function createHandlers(core: Core): HandlerTable {
  return {
    'app.info': () => ({
      name: 'Atelier',
      version: core.version,
      dataDir: core.store.dataDir,
      schemaVersion: core.store.schemaVersion,
    }),
    ...settingsHandlers(core.store.settings),
    ...jobsHandlers(core.jobs),
    ...historyHandlers(core.store.generations, core.imageUrl),
    ...modelsHandlers(core.modelRoots),
  };
}

export interface Api {
  invoke: Invoke;
  handlers: HandlerTable;
}

export function createApi(core: Core, options: FunnelOptions): Api {
  const handlers = createHandlers(core);
  return { handlers, invoke: createFunnel(handlers, options) };
}
