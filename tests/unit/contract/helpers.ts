// A real core for funnel tests: a SQLite store in a fresh temp folder and a real job queue.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Core } from '../../../src-main/api/core';
import { JobQueue } from '../../../src-main/jobs/index';
import { openStore } from '../../../src-main/store/index';

export interface TestCore {
  core: Core;
  dataDir: string;
  close(): Promise<void>;
}

export function openTestCore(): TestCore {
  const dataDir = mkdtempSync(join(tmpdir(), 'atelier-contract-'));
  const store = openStore({ dataDir });
  const jobs = new JobQueue();
  return {
    dataDir,
    core: {
      store,
      jobs,
      version: '0.0.0-test',
      modelRoots: [{ dir: join(dataDir, 'models'), origin: 'imported' }],
      imageUrl: (path) => `test-image:/${path}`,
    },
    close: async () => {
      await jobs.close();
      store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A 1×1 PNG, as the engine would write one (bytes are real; the store hashes them). */
export const tinyPng = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABSK+kcQAAAABJRU5ErkJggg==',
  'base64',
);
