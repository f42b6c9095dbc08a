// The lineage of an edit chain as a tree: a root and every item made from it, children in the
// order they were made. Pure (no DOM).
export interface LineageItem {
  id: string;
  parentId: string | null;
  createdAt: number;
}

export interface LineageNode<T extends LineageItem> {
  item: T;
  children: LineageNode<T>[];
}

/** Builds the tree under `root` from its descendants (any order); items not under root are left out. */
export function buildLineageTree<T extends LineageItem>(root: T, descendants: readonly T[]): LineageNode<T> {
  const byParent = new Map<string, T[]>();
  for (const item of descendants) {
    if (item.parentId === null) continue;
    const list = byParent.get(item.parentId) ?? [];
    list.push(item);
    byParent.set(item.parentId, list);
  }
  const seen = new Set<string>();
  const grow = (item: T): LineageNode<T> => {
    seen.add(item.id);
    const children = (byParent.get(item.id) ?? [])
      .filter((c) => !seen.has(c.id))
      .sort((a, b) => a.createdAt - b.createdAt)
      .map(grow);
    return { item, children };
  };
  return grow(root);
}

export function countNodes<T extends LineageItem>(node: LineageNode<T>): number {
  return 1 + node.children.reduce((n, c) => n + countNodes(c), 0);
}
