// Public types of the store (src-main/store). The store is Electron-free and synchronous
// (better-sqlite3): every method returns when its change is durable in the WAL.
// Times are milliseconds since the Unix epoch (UTC). Ids are strings (UUID v4).
import type { Batches } from './batches';

export type GenerationKind = 't2i' | 'edit' | 'inpaint' | 'variation';
export const GENERATION_KINDS: readonly GenerationKind[] = ['t2i', 'edit', 'inpaint', 'variation'];

export type GenerationStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';
export const GENERATION_STATUSES: readonly GenerationStatus[] = ['queued', 'running', 'done', 'failed', 'cancelled'];

/** What an image is to a generation: what it produced, what it was given, the inpaint mask. */
export type AssetRole = 'output' | 'reference' | 'mask';
export const ASSET_ROLES: readonly AssetRole[] = ['output', 'reference', 'mask'];

/** Sampling parameters as JSON. The named keys are the common ones; handlers may add more. */
export interface GenerationParams {
  steps?: number;
  cfg?: number;
  sampler?: string;
  width?: number;
  height?: number;
  /** Edit/variation strength and other engine-specific knobs. */
  [key: string]: unknown;
}

/** A content-addressed file under `<dataDir>/images/`. */
export interface Asset {
  /** Lower-case hex sha256 of the bytes; also the file name. */
  sha256: string;
  /** Relative to the data folder, always with forward slashes: `images/ab/cdef….png`. */
  path: string;
  bytes: number;
  width: number | null;
  height: number | null;
  mime: string;
  createdAt: number;
}

export interface AssetMeta {
  width?: number | null;
  height?: number | null;
  /** Defaults to image/png; decides the file extension. */
  mime?: string;
}

export interface GenerationAsset {
  role: AssetRole;
  /** Order among assets with the same role (0-based). */
  position: number;
  asset: Asset;
}

export interface Generation {
  id: string;
  createdAt: number;
  updatedAt: number;
  kind: GenerationKind;
  prompt: string;
  negativePrompt: string;
  params: GenerationParams;
  seed: number;
  modelName: string;
  modelHash: string | null;
  /** The generation this one was edited / varied from; null when the parent was deleted. */
  parentId: string | null;
  projectId: string | null;
  status: GenerationStatus;
  error: string | null;
  favourite: boolean;
  tags: string[];
  assets: GenerationAsset[];
}

/** An image to attach: fresh bytes (written durably before the row commits) or an existing asset. */
export type NewGenerationImage =
  | ({ role: AssetRole; data: Uint8Array } & AssetMeta)
  | { role: AssetRole; sha256: string };

export interface NewGeneration {
  kind: GenerationKind;
  prompt: string;
  negativePrompt?: string;
  params?: GenerationParams;
  seed: number;
  modelName: string;
  modelHash?: string | null;
  parentId?: string | null;
  projectId?: string | null;
  /** Default 'done' when outputs are given, else 'queued'. */
  status?: GenerationStatus;
  error?: string | null;
  favourite?: boolean;
  tags?: string[];
  images?: NewGenerationImage[];
  /** For imports/tests; default now. */
  createdAt?: number;
}

export interface GenerationUpdate {
  status?: GenerationStatus;
  error?: string | null;
  params?: GenerationParams;
  /** Appended (fresh bytes written before the row commits). */
  addImages?: NewGenerationImage[];
}

export interface GenerationFilter {
  /** Words searched in prompt and negative prompt (FTS5); every word must match, prefix match on the last. */
  text?: string;
  favourite?: boolean;
  modelName?: string;
  kind?: GenerationKind;
  status?: GenerationStatus;
  tag?: string;
  /** Generations whose params.loras lists this LoRA key (`run:<id>` / `file:<path>`), at any weight. */
  lora?: string;
  projectId?: string;
  /** Inclusive bounds on createdAt (ms). */
  from?: number;
  to?: number;
}

export interface ListOptions extends GenerationFilter {
  /** Default 50, max 500. */
  limit?: number;
  /** Opaque cursor from a previous page's `nextCursor`. */
  cursor?: string | null;
}

export interface Page<T> {
  items: T[];
  /** Null when there is nothing more. Newest first. */
  nextCursor: string | null;
}

export interface Lineage {
  /** Parent first, then grandparent… up to the root. */
  ancestors: Generation[];
  /** Every generation below this one (children, grandchildren…), breadth-first, oldest first per level. */
  descendants: Generation[];
}

export interface DeleteResult {
  deleted: boolean;
  /** sha256 of the files removed from disk because nothing referenced them any more. */
  removedFiles: string[];
}

export interface SettingsStore {
  get<T = unknown>(key: string): T | undefined;
  set(key: string, value: unknown): void;
  delete(key: string): void;
  all(): Record<string, unknown>;
}

export interface AssetStore {
  /** Absolute path of the images folder. */
  readonly dir: string;
  /** Write bytes durably (temp → fsync → rename → fsync dir) and record the asset. Idempotent. */
  put(data: Uint8Array, meta?: AssetMeta): Asset;
  get(sha256: string): Asset | null;
  /** Absolute path of an asset's file. */
  absolutePath(asset: Pick<Asset, 'path'>): string;
  read(sha256: string): Buffer;
  /**
   * Remove asset rows and files no row references and files with no row at all,
   * older than `graceMs` (default 1 h, so writers in other processes are never raced).
   */
  collectGarbage(options?: { graceMs?: number }): { removedFiles: string[] /* data-folder-relative paths */ };
}

export interface GenerationStore {
  create(input: NewGeneration): Generation;
  get(id: string): Generation | null;
  update(id: string, change: GenerationUpdate): Generation;
  list(options?: ListOptions): Page<Generation>;
  /** Shorthand for list({ ...options, text }). */
  search(text: string, options?: Omit<ListOptions, 'text'>): Page<Generation>;
  setFavourite(id: string, favourite: boolean): void;
  setTags(id: string, tags: string[]): void;
  addTag(id: string, tag: string): void;
  removeTag(id: string, tag: string): void;
  /** Every tag with how many generations carry it. */
  allTags(): { name: string; count: number }[];
  lineage(id: string): Lineage;
  delete(id: string): DeleteResult;
}

export type ProjectKind = 'collection' | 'lora';

export interface Project {
  id: string;
  name: string;
  kind: ProjectKind;
  settings: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
}

export interface ProjectStore {
  create(input: { name: string; kind?: ProjectKind; settings?: Record<string, unknown> }): Project;
  get(id: string): Project | null;
  list(): Project[];
  update(id: string, change: { name?: string; settings?: Record<string, unknown> }): Project;
  /** Generations of the project keep existing (their projectId becomes null). */
  delete(id: string): void;
}

export type LoraRunStatus = 'pending' | 'running' | 'done' | 'failed' | 'cancelled';

export interface LoraRun {
  id: string;
  projectId: string;
  status: LoraRunStatus;
  baseModel: string;
  config: Record<string, unknown>;
  step: number;
  totalSteps: number;
  error: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface LoraMetric {
  step: number;
  loss: number;
  lr: number | null;
  extra: Record<string, unknown>;
}

export interface LoraCheckpoint {
  step: number;
  /** Relative to the data folder. */
  path: string;
  sha256: string;
  bytes: number;
  createdAt: number;
}

export interface LoraRunStore {
  create(input: { projectId: string; baseModel: string; config?: Record<string, unknown>; totalSteps: number }): LoraRun;
  get(id: string): LoraRun | null;
  list(projectId?: string): LoraRun[];
  update(id: string, change: { status?: LoraRunStatus; step?: number; error?: string | null; config?: Record<string, unknown> }): LoraRun;
  addMetrics(runId: string, metrics: LoraMetric[]): void;
  metrics(runId: string, options?: { fromStep?: number }): LoraMetric[];
  addCheckpoint(runId: string, checkpoint: Omit<LoraCheckpoint, 'createdAt'>): void;
  checkpoints(runId: string): LoraCheckpoint[];
  removeCheckpoint(runId: string, step: number): void;
  delete(id: string): void;
  // Dataset items, captions and samples (migration 3, issue 7).
  /** Makes the project's items exactly `items` (by name): new ones added, changed ones updated, others removed. */
  setDatasetItems(projectId: string, items: { name: string; imagePath: string; imageSha256?: string | null; caption: string }[]): LoraDatasetItem[];
  datasetItems(projectId: string): LoraDatasetItem[];
  setCaption(itemId: string, caption: string): LoraDatasetItem;
  addSample(runId: string, sample: Omit<LoraSample, 'createdAt'>): void;
  samples(runId: string): LoraSample[];
}

export interface LoraDatasetItem {
  id: string;
  projectId: string;
  name: string;
  imagePath: string;
  imageSha256: string | null;
  caption: string;
  createdAt: number;
  updatedAt: number;
}

export interface LoraSample {
  step: number;
  index: number;
  prompt: string;
  seed: number;
  /** Relative to the data folder, or absolute for runs outside it. */
  path: string;
  createdAt: number;
}

export interface StoreOptions {
  /** The user data folder; created if missing. The database is `<dataDir>/atelier.db`. */
  dataDir: string;
}

export interface Store {
  readonly dataDir: string;
  readonly dbPath: string;
  /** PRAGMA user_version after migrations. */
  readonly schemaVersion: number;
  readonly settings: SettingsStore;
  readonly assets: AssetStore;
  readonly generations: GenerationStore;
  readonly projects: ProjectStore;
  readonly loraRuns: LoraRunStore;
  /** Batch generation jobs and their rows (issue 8). */
  readonly batches: Batches;
  /** PRAGMA integrity_check plus the full-text index's own check; 'ok' when healthy. */
  integrityCheck(): string;
  close(): void;
}

/** Thrown for expected failures; `code` is stable for the API layer to map. */
export type StoreErrorCode = 'NEWER_SCHEMA' | 'NOT_FOUND' | 'INVALID' | 'CORRUPT_DB';

export class StoreError extends Error {
  readonly code: StoreErrorCode;
  constructor(code: StoreErrorCode, message: string) {
    super(message);
    this.name = 'StoreError';
    this.code = code;
  }
}
