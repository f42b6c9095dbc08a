// `settings` domain: user preferences, persisted in the store and validated on both ways in.
import { z } from 'zod';
import { NoInput } from './common';

export const ExecutionProvider = z.enum(['auto', 'cpu', 'webgpu', 'cuda', 'dml', 'coreml']);
export type ExecutionProvider = z.infer<typeof ExecutionProvider>;

/** random: a fresh seed per job; fixed: the prompt panel's seed; increment: +1 per job. */
export const SeedMode = z.enum(['random', 'fixed', 'increment']);
export type SeedMode = z.infer<typeof SeedMode>;

export const Theme = z.enum(['system', 'light', 'dark']);
export type Theme = z.infer<typeof Theme>;

export const Settings = z.strictObject({
  executionProvider: ExecutionProvider,
  /** Intra-op threads for inference; 0 lets the runtime decide. */
  threads: z.int().min(0).max(256),
  defaultSteps: z.int().min(1).max(200),
  defaultCfg: z.number().min(0).max(30),
  seedMode: SeedMode,
  theme: Theme,
});
export type Settings = z.infer<typeof Settings>;

export const DEFAULT_SETTINGS: Settings = {
  executionProvider: 'auto',
  threads: 0,
  defaultSteps: 20,
  defaultCfg: 4.5,
  seedMode: 'random',
  theme: 'system',
};

/** A patch: only the keys given change; at least one key. */
export const SettingsPatch = Settings.partial().refine((patch) => Object.keys(patch).length > 0, {
  message: 'give at least one setting to change',
});
export type SettingsPatch = z.infer<typeof SettingsPatch>;

export const settingsRoutes = {
  'settings.get': { input: NoInput, output: Settings },
  'settings.set': { input: SettingsPatch, output: Settings },
} as const;
