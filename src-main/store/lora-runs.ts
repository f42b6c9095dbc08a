// LoRA fine-tune runs, their per-step metrics and checkpoints. The trainer (issue 7) owns the
// checkpoint files themselves; these rows only name them.
import { randomUUID } from 'node:crypto';
import type { Db } from './database';
import { StoreError, type LoraCheckpoint, type LoraDatasetItem, type LoraMetric, type LoraRun, type LoraRunStatus, type LoraRunStore, type LoraSample } from './types';

interface RunRow {
  id: string;
  project_id: string;
  status: LoraRunStatus;
  base_model: string;
  config: string;
  step: number;
  total_steps: number;
  error: string | null;
  created_at: number;
  updated_at: number;
}

const STATUSES: readonly LoraRunStatus[] = ['pending', 'running', 'done', 'failed', 'cancelled'];

function fromRow(row: RunRow): LoraRun {
  return {
    id: row.id,
    projectId: row.project_id,
    status: row.status,
    baseModel: row.base_model,
    config: JSON.parse(row.config) as Record<string, unknown>,
    step: row.step,
    totalSteps: row.total_steps,
    error: row.error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export class LoraRuns implements LoraRunStore {
  constructor(private readonly db: Db) {}

  create(input: { projectId: string; baseModel: string; config?: Record<string, unknown>; totalSteps: number }): LoraRun {
    if (!Number.isSafeInteger(input.totalSteps) || input.totalSteps < 0) throw new StoreError('INVALID', 'totalSteps must be a non-negative integer');
    if (!this.db.prepare('SELECT 1 FROM projects WHERE id = ?').get(input.projectId)) {
      throw new StoreError('NOT_FOUND', `No project ${input.projectId}`);
    }
    const id = randomUUID();
    const now = Date.now();
    this.db
      .prepare(
        `INSERT INTO lora_runs (id, project_id, status, base_model, config, step, total_steps, created_at, updated_at)
         VALUES (?, ?, 'pending', ?, ?, 0, ?, ?, ?)`,
      )
      .run(id, input.projectId, input.baseModel, JSON.stringify(input.config ?? {}), input.totalSteps, now, now);
    return this.get(id)!;
  }

  get(id: string): LoraRun | null {
    const row = this.db.prepare<[string], RunRow>('SELECT * FROM lora_runs WHERE id = ?').get(id);
    return row ? fromRow(row) : null;
  }

  list(projectId?: string): LoraRun[] {
    const rows =
      projectId === undefined
        ? this.db.prepare<[], RunRow>('SELECT * FROM lora_runs ORDER BY created_at DESC').all()
        : this.db.prepare<[string], RunRow>('SELECT * FROM lora_runs WHERE project_id = ? ORDER BY created_at DESC').all(projectId);
    return rows.map(fromRow);
  }

  update(id: string, change: { status?: LoraRunStatus; step?: number; error?: string | null; config?: Record<string, unknown> }): LoraRun {
    const current = this.get(id);
    if (!current) throw new StoreError('NOT_FOUND', `No LoRA run ${id}`);
    if (change.status !== undefined && !STATUSES.includes(change.status)) throw new StoreError('INVALID', `Unknown run status ${JSON.stringify(change.status)}`);
    if (change.step !== undefined && (!Number.isSafeInteger(change.step) || change.step < 0)) throw new StoreError('INVALID', 'step must be a non-negative integer');
    this.db
      .prepare('UPDATE lora_runs SET status = ?, step = ?, error = ?, config = ?, updated_at = ? WHERE id = ?')
      .run(
        change.status ?? current.status,
        change.step ?? current.step,
        change.error === undefined ? current.error : change.error,
        JSON.stringify(change.config ?? current.config),
        Date.now(),
        id,
      );
    return this.get(id)!;
  }

  addMetrics(runId: string, metrics: LoraMetric[]): void {
    const insert = this.db.prepare(
      'INSERT OR REPLACE INTO lora_metrics (run_id, step, loss, lr, extra) VALUES (?, ?, ?, ?, ?)',
    );
    this.db
      .transaction(() => {
        for (const m of metrics) insert.run(runId, m.step, m.loss, m.lr, JSON.stringify(m.extra ?? {}));
      })
      .immediate();
  }

  metrics(runId: string, options: { fromStep?: number } = {}): LoraMetric[] {
    return this.db
      .prepare<[string, number], { step: number; loss: number; lr: number | null; extra: string }>(
        'SELECT step, loss, lr, extra FROM lora_metrics WHERE run_id = ? AND step >= ? ORDER BY step',
      )
      .all(runId, options.fromStep ?? 0)
      .map((row) => ({ step: row.step, loss: row.loss, lr: row.lr, extra: JSON.parse(row.extra) as Record<string, unknown> }));
  }

  addCheckpoint(runId: string, checkpoint: Omit<LoraCheckpoint, 'createdAt'>): void {
    this.db
      .prepare('INSERT OR REPLACE INTO lora_checkpoints (run_id, step, path, sha256, bytes, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(runId, checkpoint.step, checkpoint.path, checkpoint.sha256, checkpoint.bytes, Date.now());
  }

  checkpoints(runId: string): LoraCheckpoint[] {
    return this.db
      .prepare<[string], { step: number; path: string; sha256: string; bytes: number; created_at: number }>(
        'SELECT step, path, sha256, bytes, created_at FROM lora_checkpoints WHERE run_id = ? ORDER BY step',
      )
      .all(runId)
      .map((row) => ({ step: row.step, path: row.path, sha256: row.sha256, bytes: row.bytes, createdAt: row.created_at }));
  }

  removeCheckpoint(runId: string, step: number): void {
    this.db.prepare('DELETE FROM lora_checkpoints WHERE run_id = ? AND step = ?').run(runId, step);
  }

  delete(id: string): void {
    this.db.prepare('DELETE FROM lora_runs WHERE id = ?').run(id);
  }

  // --- dataset items, captions, samples (migration 3) ---

  setDatasetItems(projectId: string, items: { name: string; imagePath: string; imageSha256?: string | null; caption: string }[]): LoraDatasetItem[] {
    if (!this.db.prepare('SELECT 1 FROM projects WHERE id = ?').get(projectId)) throw new StoreError('NOT_FOUND', `No project ${projectId}`);
    const names = new Set<string>();
    for (const it of items) {
      if (!it.name || names.has(it.name)) throw new StoreError('INVALID', `dataset item names must be unique and non-empty (${JSON.stringify(it.name)})`);
      names.add(it.name);
    }
    const now = Date.now();
    const upsert = this.db.prepare(
      `INSERT INTO lora_dataset_items (id, project_id, name, image_path, image_sha256, caption, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (project_id, name) DO UPDATE SET image_path = excluded.image_path, image_sha256 = excluded.image_sha256,
         caption = excluded.caption, updated_at = excluded.updated_at`,
    );
    this.db
      .transaction(() => {
        for (const it of items) upsert.run(randomUUID(), projectId, it.name, it.imagePath, it.imageSha256 ?? null, it.caption, now, now);
        const keep = [...names];
        this.db
          .prepare(`DELETE FROM lora_dataset_items WHERE project_id = ? AND name NOT IN (SELECT value FROM json_each(?))`)
          .run(projectId, JSON.stringify(keep));
      })
      .immediate();
    return this.datasetItems(projectId);
  }

  datasetItems(projectId: string): LoraDatasetItem[] {
    return this.db
      .prepare<[string], ItemRow>('SELECT * FROM lora_dataset_items WHERE project_id = ? ORDER BY name')
      .all(projectId)
      .map(itemFromRow);
  }

  setCaption(itemId: string, caption: string): LoraDatasetItem {
    const info = this.db.prepare('UPDATE lora_dataset_items SET caption = ?, updated_at = ? WHERE id = ?').run(caption, Date.now(), itemId);
    if (info.changes === 0) throw new StoreError('NOT_FOUND', `No dataset item ${itemId}`);
    return itemFromRow(this.db.prepare<[string], ItemRow>('SELECT * FROM lora_dataset_items WHERE id = ?').get(itemId)!);
  }

  addSample(runId: string, sample: Omit<LoraSample, 'createdAt'>): void {
    this.db
      .prepare('INSERT OR REPLACE INTO lora_samples (run_id, step, idx, prompt, seed, path, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(runId, sample.step, sample.index, sample.prompt, sample.seed, sample.path, Date.now());
  }

  samples(runId: string): LoraSample[] {
    return this.db
      .prepare<[string], { step: number; idx: number; prompt: string; seed: number; path: string; created_at: number }>(
        'SELECT step, idx, prompt, seed, path, created_at FROM lora_samples WHERE run_id = ? ORDER BY step, idx',
      )
      .all(runId)
      .map((r) => ({ step: r.step, index: r.idx, prompt: r.prompt, seed: r.seed, path: r.path, createdAt: r.created_at }));
  }
}

interface ItemRow {
  id: string;
  project_id: string;
  name: string;
  image_path: string;
  image_sha256: string | null;
  caption: string;
  created_at: number;
  updated_at: number;
}

function itemFromRow(r: ItemRow): LoraDatasetItem {
  return { id: r.id, projectId: r.project_id, name: r.name, imagePath: r.image_path, imageSha256: r.image_sha256, caption: r.caption, createdAt: r.created_at, updatedAt: r.updated_at };
}
