export { startServer, FILES_PREFIX } from './server';
export { defaultDataDir } from './data-dir';
export type { RunningServer, ServerOptions } from './server';
