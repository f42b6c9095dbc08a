// The canvas document and its undo history, one per studio, as React state.
import { useMemo, useSyncExternalStore } from 'react';
import type { CanvasRecord } from '../canvas/document';
import { createCanvasHistory } from '../canvas/document';
import type { DocumentHistory } from '../canvas/history';

export interface CanvasDocument {
  history: DocumentHistory<CanvasRecord>;
  records: Readonly<Record<string, CanvasRecord>>;
}

export function useCanvasDocument(initial?: readonly CanvasRecord[]): CanvasDocument {
  // The initial records are read once (the history owns the document from then on).
  const history = useMemo(() => createCanvasHistory(initial), []);
  const records = useSyncExternalStore(
    (listener) => history.subscribe(listener),
    () => history.records,
  );
  return { history, records };
}
