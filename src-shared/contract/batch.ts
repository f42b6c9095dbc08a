// `batch` domain (issue 8): a prompt list dropped on the studio becomes a batch whose rows run one
// by one in the job queue; each image lands in the history (and, if a folder is given, as a file
// with its parameters inside). Batches are kept in the store and resume after the app was closed.
// `batch.export` writes history items or a batch's images to a folder.
import { z } from 'zod';
import { Id, NoInput, Seed, Timestamp } from './common';

export const ExportFormat = z.enum(['png', 'jpeg', 'webp']);
export type ExportFormat = z.infer<typeof ExportFormat>;

const FolderPath = z.string().trim().min(1, 'choose a folder').max(4096);
const Template = z.string().trim().min(1).max(500);

export const BatchCreateInput = z.strictObject({
  /** The dropped file's name (its extension picks txt, csv, tsv or jsonl). */
  fileName: z.string().trim().min(1).max(255),
  /** The file's text. */
  text: z.string().min(1, 'the file is empty').max(20 * 1024 * 1024),
  listFormat: z.enum(['txt', 'csv', 'tsv', 'jsonl']).optional(),
  /** Also write each image to this folder (absolute path); default: history only. */
  outDir: FolderPath.nullable().optional(),
  format: ExportFormat.optional(),
  template: Template.optional(),
  /** Model id (models.list) for rows that name none. */
  model: z.string().min(1).max(200).optional(),
  steps: z.int().min(1).max(200).optional(),
  cfg: z.number().min(0).max(30).optional(),
  seed: Seed.optional(),
  zip: z.boolean().optional(),
});
export type BatchCreateInput = z.infer<typeof BatchCreateInput>;

export const BatchState = z.enum(['pending', 'running', 'done', 'failed', 'cancelled', 'interrupted']);
export type BatchState = z.infer<typeof BatchState>;

export const BatchSummary = z.strictObject({
  id: Id,
  source: z.string(),
  state: BatchState,
  total: z.int().min(0),
  done: z.int().min(0),
  failed: z.int().min(0),
  outDir: z.string().nullable(),
  format: ExportFormat,
  /** The queue job running it now; null when none. */
  jobId: z.string().nullable(),
  /** Rows left and no job running it: `batch.resume` continues it. */
  resumable: z.boolean(),
  error: z.string().nullable(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type BatchSummary = z.infer<typeof BatchSummary>;

export const BatchRowInfo = z.strictObject({
  index: z.int().min(1),
  line: z.int().min(0),
  status: z.enum(['pending', 'running', 'done', 'failed']),
  prompt: z.string(),
  seed: z.number().nullable(),
  error: z.string().nullable(),
  file: z.string().nullable(),
  generationId: z.string().nullable(),
});
export type BatchRowInfo = z.infer<typeof BatchRowInfo>;

/** A row of the dropped file that cannot run, and why (the other rows go on). */
export const BatchRowIssue = z.strictObject({ line: z.int().min(0), errors: z.array(z.string()) });

const ById = z.strictObject({ id: Id });

export const BatchExportInput = z.strictObject({
  /** A batch's images, or … */
  batchId: Id.optional(),
  /** … these history items, in this order. */
  generationIds: z.array(Id).min(1).max(100_000).optional(),
  outDir: FolderPath,
  format: ExportFormat.optional(),
  template: Template.optional(),
  zip: z.boolean().optional(),
  overwrite: z.boolean().optional(),
}).refine((v) => (v.batchId === undefined) !== (v.generationIds === undefined), 'give either batchId or generationIds');

export const batchRoutes = {
  'batch.create': {
    input: BatchCreateInput,
    output: z.strictObject({ batch: BatchSummary, issues: z.array(BatchRowIssue), warnings: z.array(z.string()) }),
  },
  'batch.list': { input: NoInput, output: z.strictObject({ batches: z.array(BatchSummary) }) },
  'batch.get': {
    input: z.strictObject({ id: Id, limit: z.int().min(1).max(5000).optional() }),
    output: z.strictObject({ batch: BatchSummary, rows: z.array(BatchRowInfo) }),
  },
  'batch.cancel': { input: ById, output: BatchSummary },
  'batch.resume': { input: ById, output: BatchSummary },
  'batch.export': {
    input: BatchExportInput,
    output: z.strictObject({
      exported: z.int().min(0),
      failed: z.array(z.strictObject({ index: z.int(), generationId: z.string().nullable(), error: z.string() })),
      manifest: z.string(),
      zip: z.string().nullable(),
    }),
  },
} as const;
