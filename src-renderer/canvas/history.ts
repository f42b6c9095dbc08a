// Undo/redo as a history of diffs with marks (the idea tldraw uses): the document is a set of
// records keyed by id; every change is a diff (added / updated [before, after] / removed); a user
// action starts with a mark, and undo reverses diffs back to the last mark. A change after an undo
// cuts the redo branch. View state (zoom, pan) is not a record, so it never enters the history.
// Pure module (no DOM, no React).

export interface DocRecord {
  readonly id: string;
}

export interface RecordsDiff<R extends DocRecord> {
  added: Record<string, R>;
  updated: Record<string, readonly [R, R]>;
  removed: Record<string, R>;
}

type Entry<R extends DocRecord> = { kind: 'mark'; label: string } | { kind: 'diff'; diff: RecordsDiff<R> };

export function emptyDiff<R extends DocRecord>(): RecordsDiff<R> {
  return { added: {}, updated: {}, removed: {} };
}

export function isEmptyDiff<R extends DocRecord>(diff: RecordsDiff<R>): boolean {
  return Object.keys(diff.added).length === 0 && Object.keys(diff.updated).length === 0 && Object.keys(diff.removed).length === 0;
}

export function reverseDiff<R extends DocRecord>(diff: RecordsDiff<R>): RecordsDiff<R> {
  const updated: Record<string, readonly [R, R]> = {};
  for (const [id, [before, after]] of Object.entries(diff.updated)) updated[id] = [after, before];
  return { added: { ...diff.removed }, updated, removed: { ...diff.added } };
}

/** Applies a diff to a snapshot, returning a new snapshot (the old one is left as it was). */
export function applyDiff<R extends DocRecord>(records: Readonly<Record<string, R>>, diff: RecordsDiff<R>): Record<string, R> {
  const next: Record<string, R> = { ...records };
  for (const id of Object.keys(diff.removed)) delete next[id];
  for (const [id, record] of Object.entries(diff.added)) next[id] = record;
  for (const [id, [, after]] of Object.entries(diff.updated)) next[id] = after;
  return next;
}

/** The diff that turns the current records into `put` plus the removal of `remove`. */
export function diffFor<R extends DocRecord>(records: Readonly<Record<string, R>>, put: readonly R[], remove: readonly string[] = []): RecordsDiff<R> {
  const diff = emptyDiff<R>();
  for (const id of remove) {
    const existing = records[id];
    if (existing) diff.removed[id] = existing;
  }
  for (const record of put) {
    const existing = records[record.id];
    if (!existing) diff.added[record.id] = record;
    else if (existing !== record) diff.updated[record.id] = [existing, record];
  }
  return diff;
}

export class DocumentHistory<R extends DocRecord> {
  private snapshot: Readonly<Record<string, R>>;
  private undos: Entry<R>[] = [];
  private redos: Entry<R>[] = [];
  private readonly listeners = new Set<() => void>();

  constructor(initial: readonly R[] = []) {
    this.snapshot = Object.fromEntries(initial.map((r) => [r.id, r]));
  }

  get records(): Readonly<Record<string, R>> {
    return this.snapshot;
  }

  get(id: string): R | undefined {
    return this.snapshot[id];
  }

  /** Replaces the whole document and forgets the history (loading saved work is not an edit). */
  reset(records: readonly R[]): void {
    this.snapshot = Object.fromEntries(records.map((r) => [r.id, r]));
    this.undos = [];
    this.redos = [];
    this.emit();
  }

  /** Marks the start of a user action: undo stops here. */
  mark(label: string): void {
    this.undos.push({ kind: 'mark', label });
    this.redos = [];
  }

  /** Applies a diff as part of the current action. Empty diffs are ignored. */
  apply(diff: RecordsDiff<R>): void {
    if (isEmptyDiff(diff)) return;
    this.snapshot = applyDiff(this.snapshot, diff);
    this.undos.push({ kind: 'diff', diff });
    this.redos = [];
    this.emit();
  }

  /** A whole user action: a mark, then the records put and removed. */
  change(label: string, put: readonly R[], remove: readonly string[] = []): void {
    const diff = diffFor(this.snapshot, put, remove);
    if (isEmptyDiff(diff)) return;
    this.mark(label);
    this.apply(diff);
  }

  get canUndo(): boolean {
    return this.undos.some((e) => e.kind === 'diff');
  }

  get canRedo(): boolean {
    return this.redos.some((e) => e.kind === 'diff');
  }

  /** The label of the action undo would revert. */
  get undoLabel(): string | null {
    for (let i = this.undos.length - 1, sawDiff = false; i >= 0; i--) {
      const e = this.undos[i]!;
      if (e.kind === 'diff') sawDiff = true;
      else if (sawDiff) return e.label;
    }
    return null;
  }

  /** Reverts the diffs back to the last mark that has changes after it. */
  undo(): boolean {
    let undone = false;
    while (this.undos.length > 0) {
      const entry = this.undos.pop()!;
      this.redos.push(entry);
      if (entry.kind === 'diff') {
        this.snapshot = applyDiff(this.snapshot, reverseDiff(entry.diff));
        undone = true;
      } else if (undone) break;
    }
    if (undone) this.emit();
    return undone;
  }

  /** Re-applies the next action (its mark and its diffs, up to the following mark). */
  redo(): boolean {
    let redone = false;
    while (this.redos.length > 0) {
      const entry = this.redos[this.redos.length - 1]!;
      if (entry.kind === 'mark' && redone) break;
      this.redos.pop();
      this.undos.push(entry);
      if (entry.kind === 'diff') {
        this.snapshot = applyDiff(this.snapshot, entry.diff);
        redone = true;
      }
    }
    if (redone) this.emit();
    return redone;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  private emit(): void {
    for (const listener of this.listeners) listener();
  }
}
