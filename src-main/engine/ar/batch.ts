// Left padding of prompts of different lengths into one batch (docs/bundle-spec.md: padding on the
// left, position ids count only attended tokens).

export interface PaddedBatch {
  ids: BigInt64Array;
  mask: BigInt64Array;
  positions: BigInt64Array;
  rows: number;
  length: number;
  /** Position id of each row's last token (the next token gets this + 1). */
  lastPosition: number[];
}

export function leftPad(prompts: readonly number[][], padId: number): PaddedBatch {
  const rows = prompts.length;
  const length = Math.max(...prompts.map((p) => p.length));
  const ids = new BigInt64Array(rows * length).fill(BigInt(padId));
  const mask = new BigInt64Array(rows * length);
  const positions = new BigInt64Array(rows * length);
  const lastPosition: number[] = [];
  prompts.forEach((p, r) => {
    const pad = length - p.length;
    p.forEach((id, j) => {
      ids[r * length + pad + j] = BigInt(id);
      mask[r * length + pad + j] = 1n;
      positions[r * length + pad + j] = BigInt(j);
    });
    lastPosition.push(p.length - 1);
  });
  return { ids, mask, positions, rows, length, lastPosition };
}
