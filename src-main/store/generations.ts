// The history: generations with their images, tags, favourites, full-text search and edit chains.
import { randomUUID } from 'node:crypto';
import type { Db } from './database';
import { assetFromRow, type AssetFiles, type AssetRow, type PreparedAsset } from './assets';
import { ftsQuery } from './search';
import {
  ASSET_ROLES,
  GENERATION_KINDS,
  GENERATION_STATUSES,
  StoreError,
  type AssetRole,
  type DeleteResult,
  type Generation,
  type GenerationAsset,
  type GenerationParams,
  type GenerationStore,
  type GenerationUpdate,
  type Lineage,
  type ListOptions,
  type NewGeneration,
  type NewGenerationImage,
  type Page,
} from './types';

interface GenerationRow {
  seq: number;
  id: string;
  created_at: number;
  updated_at: number;
  kind: Generation['kind'];
  prompt: string;
  negative_prompt: string;
  params: string;
  seed: number;
  model_name: string;
  model_hash: string | null;
  parent_id: string | null;
  project_id: string | null;
  status: Generation['status'];
  error: string | null;
  favourite: 0 | 1;
}

/** An assets row joined with its generation_assets link. */
interface LinkedAssetRow extends AssetRow {
  generation_id: string;
  role: AssetRole;
  position: number;
}

const DEFAULT_PAGE = 50;
const MAX_PAGE = 500;
const MAX_TAG_LENGTH = 64;

/** An image to link: written and waiting for its row, or an asset already recorded. */
type PendingImage = { role: AssetRole; prepared: PreparedAsset } | { role: AssetRole; sha256: string };

function invalid(message: string): never {
  throw new StoreError('INVALID', message);
}

function checkParams(params: unknown): GenerationParams {
  if (params === undefined) return {};
  if (params === null || typeof params !== 'object' || Array.isArray(params)) invalid('params must be an object');
  return params as GenerationParams;
}

function normaliseTag(tag: unknown): string {
  if (typeof tag !== 'string') invalid('A tag must be a string');
  const name = tag.trim();
  if (name === '' || name.length > MAX_TAG_LENGTH) invalid(`A tag must have 1 to ${MAX_TAG_LENGTH} characters`);
  return name;
}

function encodeCursor(createdAt: number, seq: number): string {
  return Buffer.from(JSON.stringify([createdAt, seq])).toString('base64url');
}

function decodeCursor(cursor: string): [number, number] {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && value.every((n) => Number.isSafeInteger(n))) {
      return value as [number, number];
    }
  } catch {
    // fall through to the error below
  }
  return invalid('The paging cursor is not one this store handed out');
}

export class Generations implements GenerationStore {
  private readonly byId;
  private readonly insertRow;
  private readonly linkAsset;
  private readonly nextPosition;
  private readonly upsertTag;
  private readonly tagId;
  private readonly linkTag;

  constructor(
    private readonly db: Db,
    private readonly assets: AssetFiles,
  ) {
    this.byId = db.prepare<[string], GenerationRow>('SELECT * FROM generations WHERE id = ?');
    this.insertRow = db.prepare(
      `INSERT INTO generations (id, created_at, updated_at, kind, prompt, negative_prompt, params, seed,
         model_name, model_hash, parent_id, project_id, status, error, favourite)
       VALUES (@id, @created_at, @created_at, @kind, @prompt, @negative_prompt, @params, @seed,
         @model_name, @model_hash, @parent_id, @project_id, @status, @error, @favourite)`,
    );
    this.linkAsset = db.prepare(
      'INSERT INTO generation_assets (generation_id, asset_sha256, role, position) VALUES (?, ?, ?, ?)',
    );
    this.nextPosition = db.prepare<[string, string], { next: number }>(
      'SELECT COALESCE(MAX(position) + 1, 0) AS next FROM generation_assets WHERE generation_id = ? AND role = ?',
    );
    this.upsertTag = db.prepare('INSERT OR IGNORE INTO tags (name) VALUES (?)');
    this.tagId = db.prepare<[string], { id: number }>('SELECT id FROM tags WHERE name = ?');
    this.linkTag = db.prepare('INSERT OR IGNORE INTO generation_tags (generation_id, tag_id) VALUES (?, ?)');
  }

  create(input: NewGeneration): Generation {
    if (!input || typeof input !== 'object') invalid('A generation must be an object');
    if (!GENERATION_KINDS.includes(input.kind)) invalid(`Unknown generation kind ${JSON.stringify(input.kind)}`);
    if (typeof input.prompt !== 'string') invalid('prompt must be a string');
    if (input.negativePrompt !== undefined && typeof input.negativePrompt !== 'string') invalid('negativePrompt must be a string');
    if (!Number.isSafeInteger(input.seed) || input.seed < 0) invalid('seed must be a non-negative safe integer');
    if (typeof input.modelName !== 'string' || input.modelName === '') invalid('modelName must be a non-empty string');
    if (input.status !== undefined && !GENERATION_STATUSES.includes(input.status)) invalid(`Unknown status ${JSON.stringify(input.status)}`);
    if (input.createdAt !== undefined && !Number.isSafeInteger(input.createdAt)) invalid('createdAt must be an integer (ms)');
    const params = checkParams(input.params);
    const tags = (input.tags ?? []).map(normaliseTag);
    // Files first, outside the transaction: each is complete on disk before the row naming it commits.
    const pending = this.prepareImages(input.images ?? []);
    const id = randomUUID();
    this.db
      .transaction(() => {
        if (input.parentId != null && !this.byId.get(input.parentId)) {
          throw new StoreError('NOT_FOUND', `The parent generation ${input.parentId} does not exist`);
        }
        if (input.projectId != null && !this.db.prepare('SELECT 1 FROM projects WHERE id = ?').get(input.projectId)) {
          throw new StoreError('NOT_FOUND', `The project ${input.projectId} does not exist`);
        }
        const hasOutput = pending.some((image) => image.role === 'output');
        this.insertRow.run({
          id,
          created_at: input.createdAt ?? Date.now(),
          kind: input.kind,
          prompt: input.prompt,
          negative_prompt: input.negativePrompt ?? '',
          params: JSON.stringify(params),
          seed: input.seed,
          model_name: input.modelName,
          model_hash: input.modelHash ?? null,
          parent_id: input.parentId ?? null,
          project_id: input.projectId ?? null,
          status: input.status ?? (hasOutput ? 'done' : 'queued'),
          error: input.error ?? null,
          favourite: input.favourite ? 1 : 0,
        });
        this.linkImages(id, pending);
        for (const tag of tags) this.tag(id, tag);
      })
      .immediate();
    return this.get(id)!;
  }

  get(id: string): Generation | null {
    const row = this.byId.get(id);
    return row ? this.hydrate([row])[0]! : null;
  }

  update(id: string, change: GenerationUpdate): Generation {
    if (change.status !== undefined && !GENERATION_STATUSES.includes(change.status)) invalid(`Unknown status ${JSON.stringify(change.status)}`);
    const params = change.params === undefined ? undefined : checkParams(change.params);
    const pending = this.prepareImages(change.addImages ?? []);
    this.db
      .transaction(() => {
        this.requireRow(id);
        const sets: string[] = ['updated_at = @now'];
        if (change.status !== undefined) sets.push('status = @status');
        if (change.error !== undefined) sets.push('error = @error');
        if (params !== undefined) sets.push('params = @params');
        this.db.prepare(`UPDATE generations SET ${sets.join(', ')} WHERE id = @id`).run({
          id,
          now: Date.now(),
          status: change.status ?? null,
          error: change.error ?? null,
          params: params === undefined ? null : JSON.stringify(params),
        });
        this.linkImages(id, pending);
      })
      .immediate();
    return this.get(id)!;
  }

  list(options: ListOptions = {}): Page<Generation> {
    const limit = Math.min(Math.max(Math.trunc(options.limit ?? DEFAULT_PAGE), 1), MAX_PAGE);
    const where: string[] = [];
    const args: Record<string, unknown> = { limit: limit + 1 };
    if (options.text !== undefined) {
      const match = ftsQuery(options.text);
      if (match !== null) {
        where.push('g.seq IN (SELECT rowid FROM generations_fts WHERE generations_fts MATCH @match)');
        args.match = match;
      }
    }
    if (options.favourite !== undefined) {
      where.push('g.favourite = @favourite');
      args.favourite = options.favourite ? 1 : 0;
    }
    if (options.modelName !== undefined) {
      where.push('g.model_name = @modelName');
      args.modelName = options.modelName;
    }
    if (options.kind !== undefined) {
      where.push('g.kind = @kind');
      args.kind = options.kind;
    }
    if (options.status !== undefined) {
      where.push('g.status = @status');
      args.status = options.status;
    }
    if (options.projectId !== undefined) {
      where.push('g.project_id = @projectId');
      args.projectId = options.projectId;
    }
    if (options.tag !== undefined) {
      where.push('g.id IN (SELECT gt.generation_id FROM generation_tags gt JOIN tags t ON t.id = gt.tag_id WHERE t.name = @tag)');
      args.tag = options.tag.trim();
    }
    if (options.lora !== undefined) {
      // A row without params.loras has no element to match; a malformed entry (not an object) is skipped.
      where.push(`EXISTS (SELECT 1 FROM json_each(g.params, '$.loras') l WHERE json_extract(CASE WHEN l.type = 'object' THEN l.value END, '$.key') = @lora)`);
      args.lora = options.lora;
    }
    if (options.from !== undefined) {
      where.push('g.created_at >= @from');
      args.from = options.from;
    }
    if (options.to !== undefined) {
      where.push('g.created_at <= @to');
      args.to = options.to;
    }
    if (options.cursor) {
      const [createdAt, seq] = decodeCursor(options.cursor);
      where.push('(g.created_at < @cursorTime OR (g.created_at = @cursorTime AND g.seq < @cursorSeq))');
      args.cursorTime = createdAt;
      args.cursorSeq = seq;
    }
    const sql = `SELECT g.* FROM generations g ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY g.created_at DESC, g.seq DESC LIMIT @limit`;
    const rows = this.db.prepare<[Record<string, unknown>], GenerationRow>(sql).all(args);
    const more = rows.length > limit;
    const pageRows = more ? rows.slice(0, limit) : rows;
    const last = pageRows[pageRows.length - 1];
    return {
      items: this.hydrate(pageRows),
      nextCursor: more && last ? encodeCursor(last.created_at, last.seq) : null,
    };
  }

  search(text: string, options: Omit<ListOptions, 'text'> = {}): Page<Generation> {
    return this.list({ ...options, text });
  }

  setFavourite(id: string, favourite: boolean): void {
    const result = this.db
      .prepare('UPDATE generations SET favourite = ?, updated_at = ? WHERE id = ?')
      .run(favourite ? 1 : 0, Date.now(), id);
    if (result.changes === 0) this.requireRow(id);
  }

  setTags(id: string, tags: string[]): void {
    const names = tags.map(normaliseTag);
    this.db
      .transaction(() => {
        this.requireRow(id);
        this.db.prepare('DELETE FROM generation_tags WHERE generation_id = ?').run(id);
        for (const name of names) this.tag(id, name);
        this.pruneTags();
      })
      .immediate();
  }

  addTag(id: string, tag: string): void {
    const name = normaliseTag(tag);
    this.db
      .transaction(() => {
        this.requireRow(id);
        this.tag(id, name);
      })
      .immediate();
  }

  removeTag(id: string, tag: string): void {
    const name = normaliseTag(tag);
    this.db
      .transaction(() => {
        this.requireRow(id);
        this.db
          .prepare('DELETE FROM generation_tags WHERE generation_id = ? AND tag_id = (SELECT id FROM tags WHERE name = ?)')
          .run(id, name);
        this.pruneTags();
      })
      .immediate();
  }

  allTags(): { name: string; count: number }[] {
    return this.db
      .prepare<[], { name: string; count: number }>(
        `SELECT t.name AS name, COUNT(gt.generation_id) AS count FROM tags t
         JOIN generation_tags gt ON gt.tag_id = t.id GROUP BY t.id ORDER BY t.name COLLATE NOCASE`,
      )
      .all();
  }

  lineage(id: string): Lineage {
    this.requireRow(id);
    // UNION (not UNION ALL) stops at a repeated row, so even a damaged chain cannot loop forever.
    const ancestors = this.db
      .prepare<[string], GenerationRow>(
        `WITH RECURSIVE up(id, depth) AS (
           SELECT parent_id, 1 FROM generations WHERE id = ? AND parent_id IS NOT NULL
           UNION
           SELECT g.parent_id, up.depth + 1 FROM generations g JOIN up ON g.id = up.id
           WHERE g.parent_id IS NOT NULL AND up.depth < 10000
         )
         SELECT g.* FROM up JOIN generations g ON g.id = up.id ORDER BY up.depth`,
      )
      .all(id);
    const descendants = this.db
      .prepare<[string], GenerationRow>(
        `WITH RECURSIVE down(id, depth) AS (
           SELECT id, 1 FROM generations WHERE parent_id = ?
           UNION
           SELECT g.id, down.depth + 1 FROM generations g JOIN down ON g.parent_id = down.id
           WHERE down.depth < 10000
         )
         SELECT g.* FROM down JOIN generations g ON g.id = down.id ORDER BY down.depth, g.created_at, g.seq`,
      )
      .all(id);
    return { ancestors: this.hydrate(ancestors), descendants: this.hydrate(descendants) };
  }

  delete(id: string): DeleteResult {
    const shas = this.db
      .transaction(() => {
        if (!this.byId.get(id)) return null;
        const linked = this.db
          .prepare<[string], { sha: string }>('SELECT asset_sha256 AS sha FROM generation_assets WHERE generation_id = ?')
          .all(id)
          .map((row) => row.sha);
        this.db.prepare('DELETE FROM generations WHERE id = ?').run(id);
        this.pruneTags();
        return linked;
      })
      .immediate();
    if (shas === null) return { deleted: false, removedFiles: [] };
    // The deletion has committed; only now may files go (a crash in between leaves strays, never holes).
    const removed = this.assets.removeIfUnreferenced(shas);
    return { deleted: true, removedFiles: removed.map((file) => file.sha256) };
  }

  private requireRow(id: string): GenerationRow {
    const row = this.byId.get(id);
    if (!row) throw new StoreError('NOT_FOUND', `No generation ${id}`);
    return row;
  }

  private prepareImages(images: NewGenerationImage[]): PendingImage[] {
    if (!Array.isArray(images)) invalid('images must be an array');
    return images.map((image) => {
      if (!image || !ASSET_ROLES.includes(image.role)) invalid(`Unknown image role ${JSON.stringify(image?.role)}`);
      if ('data' in image) {
        const { role, data, ...meta } = image;
        return { role, prepared: this.assets.prepare(data, meta) };
      }
      return { role: image.role, sha256: this.assets.require(image.sha256).sha256 };
    });
  }

  /** Inside a write transaction. */
  private linkImages(id: string, pending: PendingImage[]): void {
    for (const image of pending) {
      const sha256 = 'prepared' in image ? this.assets.record(image.prepared).sha256 : this.assets.require(image.sha256).sha256;
      const position = this.nextPosition.get(id, image.role)!.next;
      this.linkAsset.run(id, sha256, image.role, position);
    }
  }

  private tag(id: string, name: string): void {
    this.upsertTag.run(name);
    this.linkTag.run(id, this.tagId.get(name)!.id);
  }

  private pruneTags(): void {
    this.db.prepare('DELETE FROM tags WHERE id NOT IN (SELECT tag_id FROM generation_tags)').run();
  }

  private hydrate(rows: GenerationRow[]): Generation[] {
    if (rows.length === 0) return [];
    const ids = JSON.stringify(rows.map((row) => row.id));
    const assets = new Map<string, GenerationAsset[]>();
    for (const link of this.db
      .prepare<[string], LinkedAssetRow>(
        `SELECT ga.generation_id, ga.role, ga.position, a.* FROM generation_assets ga
         JOIN assets a ON a.sha256 = ga.asset_sha256
         WHERE ga.generation_id IN (SELECT value FROM json_each(?))
         ORDER BY ga.role, ga.position`,
      )
      .all(ids)) {
      const list = assets.get(link.generation_id) ?? [];
      list.push({ role: link.role, position: link.position, asset: assetFromRow(link) });
      assets.set(link.generation_id, list);
    }
    const tags = new Map<string, string[]>();
    for (const link of this.db
      .prepare<[string], { generation_id: string; name: string }>(
        `SELECT gt.generation_id, t.name FROM generation_tags gt JOIN tags t ON t.id = gt.tag_id
         WHERE gt.generation_id IN (SELECT value FROM json_each(?)) ORDER BY t.name COLLATE NOCASE`,
      )
      .all(ids)) {
      const list = tags.get(link.generation_id) ?? [];
      list.push(link.name);
      tags.set(link.generation_id, list);
    }
    return rows.map((row) => ({
      id: row.id,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      kind: row.kind,
      prompt: row.prompt,
      negativePrompt: row.negative_prompt,
      params: JSON.parse(row.params) as GenerationParams,
      seed: row.seed,
      modelName: row.model_name,
      modelHash: row.model_hash,
      parentId: row.parent_id,
      projectId: row.project_id,
      status: row.status,
      error: row.error,
      favourite: row.favourite === 1,
      tags: tags.get(row.id) ?? [],
      assets: assets.get(row.id) ?? [],
    }));
  }
}
