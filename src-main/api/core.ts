// What the route handlers are given: the core's parts, opened by whichever host runs them.
import type { JobQueueApi } from '../jobs/types';
import type { Store } from '../store/types';

export interface ModelRoot {
  /** A folder whose sub-folders are model bundles. */
  dir: string;
  origin: 'bundled' | 'imported';
}

export interface Core {
  store: Store;
  jobs: JobQueueApi;
  /** The studio's version (package.json), shown in app.info. */
  version: string;
  /** Where model bundles are looked for, in order (the first folder with a given name wins). */
  modelRoots: ModelRoot[];
  /**
   * The URL the renderer loads a data-folder file from (`images/ab/….png`). Each host has its own
   * scheme (a custom protocol in Electron, an HTTP path in browser mode); the renderer just uses it.
   */
  imageUrl(relativePath: string): string;
}
