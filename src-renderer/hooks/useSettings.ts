import { useCallback, useEffect, useState } from 'react';
import type { Settings, SettingsPatch } from '../../src-shared/contract';
import { atelier, describeError, unwrap } from '../api/client';

export interface SettingsState {
  settings: Settings | null;
  error: string | null;
  save(patch: SettingsPatch): Promise<boolean>;
}

export function useSettings(): SettingsState {
  const [settings, setSettings] = useState<Settings | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    unwrap(atelier().settings.get()).then(setSettings, (e: unknown) => setError(describeError(e)));
  }, []);

  const save = useCallback(async (patch: SettingsPatch) => {
    try {
      setSettings(await unwrap(atelier().settings.set(patch)));
      setError(null);
      return true;
    } catch (e) {
      setError(describeError(e));
      return false;
    }
  }, []);

  return { settings, error, save };
}
