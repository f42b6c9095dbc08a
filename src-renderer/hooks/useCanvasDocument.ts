// The canvas document and its undo history, one per studio, as React state.
import { useMemo, useSyncExternalStore } from 'react';
import type { CanvasRecord } from '../canvas/document';
import { createCanvasHistory } from '../canvas/document';
import type { DocumentHistory } from '../canvas/history';

export interface CanvasDocument {
  history: DocumentHistory<CanvasRecord>;
  records: Readonly<Record<string, CanvasRecord>>;
}

export function useCanvasDocument(): CanvasDocument {
  const history = useMemo(() => createCanvasHistory(), []);
  const records = useSyncExternalStore(
    (listener) => history.subscribe(listener),
    () => history.records,
  );
  return { history, records };
}
