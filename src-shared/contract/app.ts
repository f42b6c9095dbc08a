// `app` domain: what the studio shows about itself. Deliberately nothing that names the host
// (Electron or browser mode): the renderer must behave the same under both.
import { z } from 'zod';
import { NoInput } from './common';

export const AppInfo = z.strictObject({
  name: z.string(),
  version: z.string(),
  /** Where the database, images and imported models live. */
  dataDir: z.string(),
  /** Store schema version (PRAGMA user_version). */
  schemaVersion: z.int().min(0),
});
export type AppInfo = z.infer<typeof AppInfo>;

export const appRoutes = {
  'app.info': { input: NoInput, output: AppInfo },
} as const;
