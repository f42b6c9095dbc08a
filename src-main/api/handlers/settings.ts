// Settings live in the store, one key per field under `studio.`; a stored value that no longer
// matches its schema (older version, hand-edited database) falls back to the default.
import type { Settings, SettingsPatch } from '../../../src-shared/contract';
import { DEFAULT_SETTINGS, Settings as SettingsSchema } from '../../../src-shared/contract';
import type { SettingsStore } from '../../store/types';

const PREFIX = 'studio.';
const keys = Object.keys(DEFAULT_SETTINGS) as (keyof Settings)[];

export function readSettings(store: SettingsStore): Settings {
  const settings: Record<string, unknown> = {};
  for (const key of keys) {
    const stored = SettingsSchema.shape[key].safeParse(store.get(PREFIX + key));
    settings[key] = stored.success ? stored.data : DEFAULT_SETTINGS[key];
  }
  return SettingsSchema.parse(settings);
}

export function settingsHandlers(store: SettingsStore) {
  return {
    'settings.get': () => readSettings(store),
    'settings.set': (patch: SettingsPatch) => {
      for (const key of keys) {
        if (patch[key] !== undefined) store.set(PREFIX + key, patch[key]);
      }
      return readSettings(store);
    },
  };
}
