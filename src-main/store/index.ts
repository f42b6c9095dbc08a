// The store: one SQLite database in the data folder plus content-addressed image files.
// Electron-free; the shell, the browser-mode server and the CLI all open it through openStore().
import fs from 'node:fs';
import path from 'node:path';
import { AssetFiles } from './assets';
import { Batches } from './batches';
import { openDatabase } from './database';
import { ensureDirectoryDurably } from '../fs/durable';
import { removeAbandonedTempFiles } from './files';
import { Generations } from './generations';
import { LoraRuns } from './lora-runs';
import { Projects } from './projects';
import { Settings } from './settings';
import type { Store, StoreOptions } from './types';

export * from './types';
export type { BatchJob, BatchRow, BatchStatus, BatchRowStatus, NewBatch, RowResult } from './batches';
export { LATEST_SCHEMA_VERSION } from './migrations';

export const DATABASE_FILE = 'atelier.db';

export function openStore(options: StoreOptions): Store {
  const dataDir = path.resolve(options.dataDir);
  fs.mkdirSync(dataDir, { recursive: true });
  const dbPath = path.join(dataDir, DATABASE_FILE);
  const db = openDatabase(dbPath);
  ensureDirectoryDurably(path.join(dataDir, 'images'));
  // Leftovers of writers that died mid-file; never visible as assets, removed here.
  removeAbandonedTempFiles(dataDir);
  const assets = new AssetFiles(db, dataDir);
  let closed = false;
  return {
    dataDir,
    dbPath,
    schemaVersion: db.pragma('user_version', { simple: true }) as number,
    settings: new Settings(db),
    assets,
    generations: new Generations(db, assets),
    projects: new Projects(db),
    loraRuns: new LoraRuns(db),
    batches: new Batches(db),
    integrityCheck: () => {
      const pages = db.pragma('integrity_check', { simple: true }) as string;
      if (pages !== 'ok') return pages;
      try {
        // The search index must match the rows it indexes (the triggers kept it in step).
        db.prepare("INSERT INTO generations_fts (generations_fts, rank) VALUES ('integrity-check', 1)").run();
      } catch (error) {
        return `full-text index: ${(error as Error).message}`;
      }
      return 'ok';
    },
    close: () => {
      if (closed) return;
      closed = true;
      // Keeps the query planner's statistics fresh; cheap when there is nothing to do.
      db.pragma('optimize');
      db.close();
    },
  };
}
