// `history` domain: every generation with its parameters, images, favourite flag and tags.
import { z } from 'zod';
import { Id, NoInput, Timestamp } from './common';

export const GenerationKind = z.enum(['t2i', 'edit', 'inpaint', 'variation']);
export const GenerationStatus = z.enum(['queued', 'running', 'done', 'failed', 'cancelled']);
export const AssetRole = z.enum(['output', 'reference', 'mask']);

export const HistoryImage = z.strictObject({
  role: AssetRole,
  position: z.int().min(0),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** A URL the renderer can put in <img src>; its scheme depends on the host and means nothing to the app. */
  url: z.string(),
  width: z.int().nullable(),
  height: z.int().nullable(),
  mime: z.string(),
  bytes: z.int().min(0),
});
export type HistoryImage = z.infer<typeof HistoryImage>;

export const HistoryItem = z.strictObject({
  id: Id,
  createdAt: Timestamp,
  updatedAt: Timestamp,
  kind: GenerationKind,
  prompt: z.string(),
  negativePrompt: z.string(),
  params: z.record(z.string(), z.unknown()),
  seed: z.number(),
  modelName: z.string(),
  parentId: Id.nullable(),
  projectId: Id.nullable(),
  status: GenerationStatus,
  error: z.string().nullable(),
  favourite: z.boolean(),
  tags: z.array(z.string()),
  images: z.array(HistoryImage),
});
export type HistoryItem = z.infer<typeof HistoryItem>;

export const HistoryPage = z.strictObject({
  items: z.array(HistoryItem),
  nextCursor: z.string().nullable(),
});
export type HistoryPage = z.infer<typeof HistoryPage>;

const Tag = z.string().trim().min(1).max(64);
const Paging = {
  limit: z.int().min(1).max(500).optional(),
  cursor: z.string().max(512).nullable().optional(),
};

export const HistoryQuery = z.strictObject({
  /** Words looked up in prompts (full-text). */
  text: z.string().max(500).optional(),
  favourite: z.boolean().optional(),
  model: z.string().max(200).optional(),
  kind: GenerationKind.optional(),
  tag: Tag.optional(),
  /** Only generations that used this LoRA (its key, `run:<id>` or `file:<path>`; any weight). */
  lora: z.string().min(1).max(1100).optional(),
  /** Inclusive createdAt bounds (ms). */
  from: Timestamp.optional(),
  to: Timestamp.optional(),
  ...Paging,
});
export type HistoryQuery = z.infer<typeof HistoryQuery>;

const ById = z.strictObject({ id: Id });

export const historyRoutes = {
  'history.list': { input: HistoryQuery.optional(), output: HistoryPage },
  'history.get': { input: ById, output: HistoryItem },
  'history.search': {
    input: z.strictObject({ text: z.string().trim().min(1).max(500), ...Paging }),
    output: HistoryPage,
  },
  'history.delete': {
    input: ById,
    output: z.strictObject({ deleted: z.boolean(), removedFiles: z.int().min(0) }),
  },
  'history.setFavourite': { input: z.strictObject({ id: Id, favourite: z.boolean() }), output: HistoryItem },
  'history.setTags': { input: z.strictObject({ id: Id, tags: z.array(Tag).max(64) }), output: HistoryItem },
  'history.tags': {
    input: NoInput,
    output: z.strictObject({ tags: z.array(z.strictObject({ name: z.string(), count: z.int().min(0) })) }),
  },
  'history.lineage': {
    input: ById,
    output: z.strictObject({ ancestors: z.array(HistoryItem), descendants: z.array(HistoryItem) }),
  },
} as const;
