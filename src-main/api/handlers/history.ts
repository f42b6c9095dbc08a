// History routes: the store's generations, shaped for the renderer (image URLs from the host).
import type { HistoryItem, HistoryPage, HistoryQuery } from '../../../src-shared/contract';
import { ApiError } from '../../../src-shared/contract';
import type { Generation, GenerationStore, Page } from '../../store/types';

export function toHistoryItem(generation: Generation, imageUrl: (path: string) => string): HistoryItem {
  return {
    id: generation.id,
    createdAt: generation.createdAt,
    updatedAt: generation.updatedAt,
    kind: generation.kind,
    prompt: generation.prompt,
    negativePrompt: generation.negativePrompt,
    params: generation.params,
    seed: generation.seed,
    modelName: generation.modelName,
    parentId: generation.parentId,
    projectId: generation.projectId,
    status: generation.status,
    error: generation.error,
    favourite: generation.favourite,
    tags: generation.tags,
    images: generation.assets.map(({ role, position, asset }) => ({
      role,
      position,
      sha256: asset.sha256,
      url: imageUrl(asset.path),
      width: asset.width,
      height: asset.height,
      mime: asset.mime,
      bytes: asset.bytes,
    })),
  };
}

export function historyHandlers(generations: GenerationStore, imageUrl: (path: string) => string) {
  const item = (generation: Generation) => toHistoryItem(generation, imageUrl);
  const page = (result: Page<Generation>): HistoryPage => ({ items: result.items.map(item), nextCursor: result.nextCursor });
  const mustGet = (id: string) => {
    const generation = generations.get(id);
    if (!generation) throw new ApiError('NOT_FOUND', `no history item ${id}`);
    return generation;
  };

  return {
    'history.list': (query: HistoryQuery | undefined) => {
      const { model, ...rest } = query ?? {};
      return page(generations.list({ ...rest, ...(model === undefined ? {} : { modelName: model }) }));
    },
    'history.get': ({ id }: { id: string }) => item(mustGet(id)),
    'history.search': ({ text, ...paging }: { text: string; limit?: number; cursor?: string | null }) =>
      page(generations.search(text, paging)),
    'history.delete': ({ id }: { id: string }) => {
      const result = generations.delete(id);
      return { deleted: result.deleted, removedFiles: result.removedFiles.length };
    },
    'history.setFavourite': ({ id, favourite }: { id: string; favourite: boolean }) => {
      mustGet(id);
      generations.setFavourite(id, favourite);
      return item(mustGet(id));
    },
    'history.setTags': ({ id, tags }: { id: string; tags: string[] }) => {
      mustGet(id);
      generations.setTags(id, [...new Set(tags)]);
      return item(mustGet(id));
    },
    'history.tags': () => ({ tags: generations.allTags() }),
    'history.lineage': ({ id }: { id: string }) => {
      mustGet(id);
      const lineage = generations.lineage(id);
      return { ancestors: lineage.ancestors.map(item), descendants: lineage.descendants.map(item) };
    },
  };
}
