// The LoRAs a job may use (lora.available: finished training runs and files in <dataDir>/loras/),
// shared by the prompt panel's picker and the history's LoRA filter. Refreshed on demand: when the
// picker is opened, when the LoRA wizard closes, after a job finishes.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { AvailableLora } from '../../src-shared/contract';
import { atelier, describeError, unwrap } from '../api/client';

export interface AvailableLoras {
  loras: AvailableLora[];
  /** Where LoRA files can be dropped (shown to the person); null until known. */
  folder: string | null;
  error: string | null;
  refresh(): void;
}

export function useAvailableLoras(): AvailableLoras {
  const [loras, setLoras] = useState<AvailableLora[]>([]);
  const [folder, setFolder] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const latest = useRef(0);
  const refresh = useCallback(() => {
    const ticket = ++latest.current;
    unwrap(atelier().lora.available()).then(
      (r) => {
        if (ticket !== latest.current) return;
        // Keep the same array when nothing changed, so memoised panels do not re-render.
        setLoras((old) => (JSON.stringify(old) === JSON.stringify(r.loras) ? old : r.loras));
        setFolder(r.folder);
        setError(null);
      },
      (e: unknown) => {
        if (ticket === latest.current) setError(`Could not list the LoRAs: ${describeError(e)}`);
      },
    );
  }, []);
  useEffect(refresh, [refresh]);
  return useMemo(() => ({ loras, folder, error, refresh }), [loras, folder, error, refresh]);
}
