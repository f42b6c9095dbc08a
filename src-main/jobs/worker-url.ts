// Where the worker script is: the one place that knows how dev (tsx) and the Electron build differ.
//
// - From TypeScript sources (tests, `node --import tsx`, browser mode in dev): ./worker.ts, with
//   tsx's loader registered inside the worker first (Node 20 workers do not inherit `--import tsx`).
// - Built by electron-vite: the worker is its own main-process entry named `jobs-worker`
//   (electron.vite.config.ts: main.build.rollupOptions.input = { index: …, 'jobs-worker':
//   resolve('src-main/jobs/worker.ts') }), emitted beside the main entry as out/main/jobs-worker.js.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { WorkerEntry } from './types';

export const BUILT_WORKER_NAME = 'jobs-worker';

export function resolveWorkerEntry(): WorkerEntry {
  const here = import.meta.url;
  if (/\.[cm]?ts$/.test(new URL(here).pathname)) {
    return { url: new URL('./worker.ts', here), loaderUrl: import.meta.resolve('tsx/esm/api') };
  }
  // This file may be bundled into the main entry or into a chunk one folder below it.
  for (const name of [`${BUILT_WORKER_NAME}.js`, `${BUILT_WORKER_NAME}.mjs`, `${BUILT_WORKER_NAME}.cjs`]) {
    for (const folder of ['./', '../']) {
      const url = new URL(folder + name, here);
      if (fs.existsSync(fileURLToPath(url))) return { url };
    }
  }
  throw new Error(`The job worker script (${BUILT_WORKER_NAME}.js) is missing next to ${fileURLToPath(here)}; is it an electron-vite entry?`);
}
