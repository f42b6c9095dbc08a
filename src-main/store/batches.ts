// Batch jobs and their rows (schema 4, issue 8). A row's output file name is chosen when the batch
// is made; the row goes pending → done (committed only after its file is renamed into place) or
// failed. ('running' is left by older runners and treated as pending.) A batch is run by one process at a time: `claim` records a runner token, and a token
// whose process is gone (kill -9) is taken over, its running rows put back to pending.
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { processIsAlive } from '../fs/durable';
import type { Db } from './database';
import { StoreError } from './types';

export type BatchStatus = 'pending' | 'running' | 'done' | 'failed' | 'cancelled' | 'interrupted';
export type BatchRowStatus = 'pending' | 'running' | 'done' | 'failed';

export interface BatchJob {
  id: string;
  /** The prompt file's name (or what the studio called it). */
  source: string;
  status: BatchStatus;
  total: number;
  done: number;
  failed: number;
  /** Batch-wide options (format, template, model, defaults, seed base…), as given at creation. */
  params: Record<string, unknown>;
  resumeKey: string | null;
  /** Absolute output folder; null when the batch only fills the history. */
  outDir: string | null;
  runner: string | null;
  error: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface BatchRow {
  batchId: string;
  /** 1-based position in the batch. */
  index: number;
  /** Line (txt, jsonl) or record (csv) number in the source file, for messages. */
  line: number;
  status: BatchRowStatus;
  params: Record<string, unknown>;
  error: string | null;
  /** Relative to the batch's outDir, forward slashes. */
  outputPath: string | null;
  sha256: string | null;
  bytes: number | null;
  width: number | null;
  height: number | null;
  generationId: string | null;
  attempts: number;
  updatedAt: number;
}

export interface NewBatch {
  source: string;
  params?: Record<string, unknown>;
  resumeKey?: string | null;
  outDir?: string | null;
  /**
   * Rows in order; a row with `error` is stored as failed (it is reported, the rest go on).
   * `outputPath` is the file the row will write, chosen up front (relative to outDir).
   */
  rows: { line: number; params: Record<string, unknown>; error?: string | null; outputPath?: string | null }[];
  /** Default now. */
  createdAt?: number;
}

export interface RowResult {
  sha256: string;
  bytes: number;
  width: number;
  height: number;
  generationId?: string | null;
}

interface JobRecord {
  id: string;
  source: string;
  status: BatchStatus;
  total: number;
  done: number;
  params: string;
  resume_key: string | null;
  out_dir: string | null;
  runner: string | null;
  error: string | null;
  created_at: number;
  updated_at: number;
  failed: number;
}

interface RowRecord {
  batch_id: string;
  row_index: number;
  line: number;
  status: BatchRowStatus;
  params: string;
  error: string | null;
  output_path: string | null;
  sha256: string | null;
  bytes: number | null;
  width: number | null;
  height: number | null;
  generation_id: string | null;
  attempts: number;
  updated_at: number;
}

const JOB_COLUMNS = `j.*, (SELECT COUNT(*) FROM batch_rows r WHERE r.batch_id = j.id AND r.status = 'failed') AS failed`;

function jobFrom(r: JobRecord): BatchJob {
  return {
    id: r.id,
    source: r.source,
    status: r.status,
    total: r.total,
    done: r.done,
    failed: r.failed,
    params: JSON.parse(r.params) as Record<string, unknown>,
    resumeKey: r.resume_key,
    outDir: r.out_dir,
    runner: r.runner,
    error: r.error,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function rowFrom(r: RowRecord): BatchRow {
  return {
    batchId: r.batch_id,
    index: r.row_index,
    line: r.line,
    status: r.status,
    params: JSON.parse(r.params) as Record<string, unknown>,
    error: r.error,
    outputPath: r.output_path,
    sha256: r.sha256,
    bytes: r.bytes,
    width: r.width,
    height: r.height,
    generationId: r.generation_id,
    attempts: r.attempts,
    updatedAt: r.updated_at,
  };
}

// Runner tokens are host:pid:uuid. Tokens of this process that are still running are kept here, so
// a token of our own pid that is not in the set (a run that ended without releasing) is stale too.
const activeTokens = new Set<string>();

/** Whether the process a runner token names is still running (this machine); other machines: assumed. */
export function tokenIsLive(token: string): boolean {
  const [host, pidText] = token.split(':');
  const pid = Number(pidText);
  if (host !== os.hostname()) return true; // another machine sharing the folder: assume it runs
  if (pid === process.pid) return activeTokens.has(token);
  return processIsAlive(pid);
}

export class Batches {
  constructor(private readonly db: Db) {}

  create(input: NewBatch): BatchJob {
    const id = randomUUID();
    const now = input.createdAt ?? Date.now();
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO batch_jobs (id, source, status, total, done, params, resume_key, out_dir, created_at, updated_at)
           VALUES (?, ?, 'pending', ?, 0, ?, ?, ?, ?, ?)`,
        )
        .run(id, input.source, input.rows.length, JSON.stringify(input.params ?? {}), input.resumeKey ?? null, input.outDir ?? null, now, now);
      const insert = this.db.prepare(
        `INSERT INTO batch_rows (batch_id, row_index, line, status, params, error, output_path, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      input.rows.forEach((row, i) => {
        insert.run(id, i + 1, row.line, row.error ? 'failed' : 'pending', JSON.stringify(row.params), row.error ?? null, row.outputPath ?? null, now);
      });
    })();
    return this.get(id)!;
  }

  get(id: string): BatchJob | null {
    const r = this.db.prepare<[string], JobRecord>(`SELECT ${JOB_COLUMNS} FROM batch_jobs j WHERE j.id = ?`).get(id);
    return r ? jobFrom(r) : null;
  }

  /** Newest first. */
  list(limit = 50): BatchJob[] {
    return this.db
      .prepare<[number], JobRecord>(`SELECT ${JOB_COLUMNS} FROM batch_jobs j ORDER BY j.created_at DESC, j.id LIMIT ?`)
      .all(Math.max(1, Math.min(500, limit)))
      .map(jobFrom);
  }

  /** The newest batch made with this resume key (same prompt file, options and output folder). */
  findByKey(resumeKey: string): BatchJob | null {
    const r = this.db
      .prepare<[string], JobRecord>(`SELECT ${JOB_COLUMNS} FROM batch_jobs j WHERE j.resume_key = ? ORDER BY j.created_at DESC LIMIT 1`)
      .get(resumeKey);
    return r ? jobFrom(r) : null;
  }

  rows(batchId: string, status?: BatchRowStatus): BatchRow[] {
    const sql = status
      ? 'SELECT * FROM batch_rows WHERE batch_id = ? AND status = ? ORDER BY row_index'
      : 'SELECT * FROM batch_rows WHERE batch_id = ? ORDER BY row_index';
    const stmt = this.db.prepare<unknown[], RowRecord>(sql);
    return (status ? stmt.all(batchId, status) : stmt.all(batchId)).map(rowFrom);
  }

  row(batchId: string, index: number): BatchRow | null {
    const r = this.db.prepare<[string, number], RowRecord>('SELECT * FROM batch_rows WHERE batch_id = ? AND row_index = ?').get(batchId, index);
    return r ? rowFrom(r) : null;
  }

  /** How many rows are in each state. */
  counts(batchId: string): Record<BatchRowStatus, number> {
    const out: Record<BatchRowStatus, number> = { pending: 0, running: 0, done: 0, failed: 0 };
    for (const r of this.db
      .prepare<[string], { status: BatchRowStatus; n: number }>('SELECT status, COUNT(*) AS n FROM batch_rows WHERE batch_id = ? GROUP BY status')
      .all(batchId)) {
      out[r.status] = r.n;
    }
    return out;
  }

  private mustExist(batchId: string): BatchJob {
    const job = this.get(batchId);
    if (!job) throw new StoreError('NOT_FOUND', `No batch ${batchId}`);
    return job;
  }

  /**
   * Takes the batch for this process. Returns the runner token, or null when a live process holds
   * it. Rows a dead runner left running go back to pending (their files are rewritten in place).
   */
  claim(batchId: string): string | null {
    const token = `${os.hostname()}:${process.pid}:${randomUUID()}`;
    const claimed = this.db.transaction(() => {
      const job = this.mustExist(batchId);
      if (job.runner && tokenIsLive(job.runner)) return false;
      const now = Date.now();
      this.db.prepare(`UPDATE batch_rows SET status = 'pending', updated_at = ? WHERE batch_id = ? AND status = 'running'`).run(now, batchId);
      this.db.prepare(`UPDATE batch_jobs SET runner = ?, status = 'running', error = NULL, updated_at = ? WHERE id = ?`).run(token, now, batchId);
      return true;
    }).immediate();
    if (!claimed) return null;
    activeTokens.add(token);
    return token;
  }

  /** Gives the batch up, with its final status. */
  release(batchId: string, token: string, status: BatchStatus, error: string | null = null): void {
    activeTokens.delete(token);
    this.db
      .prepare(`UPDATE batch_jobs SET runner = NULL, status = ?, error = ?, updated_at = ? WHERE id = ? AND runner = ?`)
      .run(status, error, Date.now(), batchId, token);
  }

  /** Marks a row done; call only after its file is renamed into place (and fsync'd). */
  complete(batchId: string, index: number, result: RowResult): void {
    this.completeMany(batchId, [{ index, result }]);
  }

  /** Several rows done in one transaction (one commit, one fsync of the log, for many images). */
  completeMany(batchId: string, rows: { index: number; result: RowResult }[]): void {
    if (!rows.length) return;
    const now = Date.now();
    this.db.transaction(() => {
      for (const { index, result } of rows) this.completeOne(batchId, index, result, now);
    })();
  }

  private completeOne(batchId: string, index: number, result: RowResult, now: number): void {
    const changed = this.db
      .prepare(
        `UPDATE batch_rows SET status = 'done', error = NULL, sha256 = ?, bytes = ?, width = ?, height = ?, generation_id = ?,
           attempts = attempts + 1, updated_at = ?
         WHERE batch_id = ? AND row_index = ? AND status IN ('pending', 'running')`,
      )
      .run(result.sha256, result.bytes, result.width, result.height, result.generationId ?? null, now, batchId, index).changes;
    if (changed !== 1) throw new StoreError('INVALID', `Row ${index} of batch ${batchId} is not waiting to run`);
    this.db.prepare(`UPDATE batch_jobs SET done = done + 1, updated_at = ? WHERE id = ?`).run(now, batchId);
  }

  /** Puts done rows back to pending (their files went missing); they keep their file names. */
  reopen(batchId: string, indexes: number[]): void {
    if (!indexes.length) return;
    const now = Date.now();
    this.db.transaction(() => {
      const stmt = this.db.prepare(
        `UPDATE batch_rows SET status = 'pending', sha256 = NULL, bytes = NULL, updated_at = ? WHERE batch_id = ? AND row_index = ? AND status = 'done'`,
      );
      let changed = 0;
      for (const i of indexes) changed += stmt.run(now, batchId, i).changes;
      this.db.prepare(`UPDATE batch_jobs SET done = done - ?, updated_at = ? WHERE id = ?`).run(changed, now, batchId);
    })();
  }

  fail(batchId: string, index: number, error: string): void {
    this.db
      .prepare(`UPDATE batch_rows SET status = 'failed', error = ?, attempts = attempts + 1, updated_at = ? WHERE batch_id = ? AND row_index = ?`)
      .run(error, Date.now(), batchId, index);
  }

  /**
   * Puts every row that parsed back to pending for a forced re-run; they keep their reserved file
   * names, so the files are replaced rather than duplicated. Rows with input errors stay failed.
   */
  resetForRerun(batchId: string): void {
    this.db.transaction(() => {
      this.mustExist(batchId);
      const now = Date.now();
      this.db
        .prepare(
          `UPDATE batch_rows SET status = 'pending', error = NULL, sha256 = NULL, bytes = NULL, updated_at = ?
           WHERE batch_id = ? AND (status != 'failed' OR attempts > 0)`,
        )
        .run(now, batchId);
      this.db.prepare(`UPDATE batch_jobs SET done = 0, status = 'pending', error = NULL, updated_at = ? WHERE id = ?`).run(now, batchId);
    })();
  }

  delete(batchId: string): void {
    this.db.prepare('DELETE FROM batch_jobs WHERE id = ?').run(batchId);
  }
}
