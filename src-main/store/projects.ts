// Projects group generations (collections) or hold a LoRA fine-tune (issue 7).
import { randomUUID } from 'node:crypto';
import type { Db } from './database';
import { StoreError, type Project, type ProjectKind, type ProjectStore } from './types';

interface ProjectRow {
  id: string;
  name: string;
  kind: ProjectKind;
  settings: string;
  created_at: number;
  updated_at: number;
}

function fromRow(row: ProjectRow): Project {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    settings: JSON.parse(row.settings) as Record<string, unknown>,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function checkName(name: unknown): string {
  if (typeof name !== 'string' || name.trim() === '') throw new StoreError('INVALID', 'A project needs a name');
  return name.trim();
}

export class Projects implements ProjectStore {
  constructor(private readonly db: Db) {}

  create(input: { name: string; kind?: ProjectKind; settings?: Record<string, unknown> }): Project {
    const kind = input.kind ?? 'collection';
    if (kind !== 'collection' && kind !== 'lora') throw new StoreError('INVALID', `Unknown project kind ${JSON.stringify(kind)}`);
    const id = randomUUID();
    const now = Date.now();
    this.db
      .prepare('INSERT INTO projects (id, name, kind, settings, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(id, checkName(input.name), kind, JSON.stringify(input.settings ?? {}), now, now);
    return this.get(id)!;
  }

  get(id: string): Project | null {
    const row = this.db.prepare<[string], ProjectRow>('SELECT * FROM projects WHERE id = ?').get(id);
    return row ? fromRow(row) : null;
  }

  list(): Project[] {
    return this.db.prepare<[], ProjectRow>('SELECT * FROM projects ORDER BY created_at DESC').all().map(fromRow);
  }

  update(id: string, change: { name?: string; settings?: Record<string, unknown> }): Project {
    const current = this.get(id);
    if (!current) throw new StoreError('NOT_FOUND', `No project ${id}`);
    this.db
      .prepare('UPDATE projects SET name = ?, settings = ?, updated_at = ? WHERE id = ?')
      .run(
        change.name === undefined ? current.name : checkName(change.name),
        JSON.stringify(change.settings ?? current.settings),
        Date.now(),
        id,
      );
    return this.get(id)!;
  }

  delete(id: string): void {
    this.db.prepare('DELETE FROM projects WHERE id = ?').run(id);
  }
}
