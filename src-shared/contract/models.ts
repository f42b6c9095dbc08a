// `models` domain: the model bundles the studio can use.
import { z } from 'zod';
import { NoInput } from './common';

export const ModelBundleInfo = z.strictObject({
  /** Folder name; what jobs name in `model`. */
  id: z.string(),
  name: z.string(),
  variant: z.string().nullable(),
  family: z.string().nullable(),
  formatVersion: z.int().nullable(),
  license: z.string().nullable(),
  image: z.strictObject({ width: z.int(), height: z.int() }).nullable(),
  /** shipped with the app, or imported into the data folder */
  origin: z.enum(['bundled', 'imported']),
  /** Why the bundle cannot be used (unreadable bundle.json, newer format…); null when it looks usable. */
  problem: z.string().nullable(),
});
export type ModelBundleInfo = z.infer<typeof ModelBundleInfo>;

export const modelsRoutes = {
  'models.list': { input: NoInput, output: z.strictObject({ models: z.array(ModelBundleInfo) }) },
} as const;
