// Sampling one token from processed scores (bundle-spec.md, step 2): softmax in float64, order by
// (probability desc, id asc), nucleus (top-p) cut, renormalise, then pick with one uniform draw.
// Sums use numpy's pairwise summation and the same element order as modeling/sampling.py, so the
// engine and the Python reference compute the same float64 probabilities and pick the same token.

export interface SortedDistribution {
  /** Token ids in sampling order. */
  ids: number[];
  /** Their renormalised probabilities, same order. */
  probs: Float64Array;
}

/** numpy's pairwise summation of a contiguous float64 vector (blocks of ≤ 128, 8 accumulators). */
export function pairwiseSum(a: ArrayLike<number>, start = 0, n = a.length - start): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[start + i]!;
    return res;
  }
  if (n <= 128) {
    const r = [0, 0, 0, 0, 0, 0, 0, 0];
    for (let j = 0; j < 8; j++) r[j] = a[start + j]!;
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j]! += a[start + i + j]!;
    let res = r[0]! + r[1]! + (r[2]! + r[3]!) + (r[4]! + r[5]! + (r[6]! + r[7]!));
    for (; i < n; i++) res += a[start + i]!;
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwiseSum(a, start, n2) + pairwiseSum(a, start + n2, n - n2);
}

/**
 * Softmax over the candidates, nucleus cut, renormalised. `candidates` lists the ids with a finite
 * score in the order the softmax sums them (ascending ids, or best-first after a top-k cut).
 */
export function nucleusDistribution(scores: Float64Array, topP: number, candidates?: number[]): SortedDistribution {
  if (!(topP > 0 && topP <= 1)) throw new RangeError(`top_p must be in (0, 1] (got ${topP})`);
  const ids = candidates ?? finiteIds(scores);
  if (ids.length === 0) throw new Error('no token left to sample: every logit is −∞');
  let max = -Infinity;
  for (const id of ids) if (scores[id]! > max) max = scores[id]!;
  if (!Number.isFinite(max)) throw new Error('logits contain +∞ or NaN');
  const e = ids.map((id) => Math.exp(scores[id]! - max));
  const total = pairwiseSum(e);
  const p = e.map((v) => v / total);
  const order = ids.map((_, i) => i).sort((a, b) => p[b]! - p[a]! || ids[a]! - ids[b]!);
  let cum = 0;
  let keep = order.length;
  for (let r = 0; r < order.length; r++) {
    cum += p[order[r]!]!;
    if (cum >= topP) {
      keep = r + 1;
      break;
    }
  }
  const keptP = order.slice(0, keep).map((i) => p[i]!);
  const keptMass = pairwiseSum(keptP);
  return { ids: order.slice(0, keep).map((i) => ids[i]!), probs: Float64Array.from(keptP, (v) => v / keptMass) };
}

function finiteIds(scores: Float64Array): number[] {
  const ids: number[] = [];
  for (let i = 0; i < scores.length; i++) if (scores[i]! > -Infinity) ids.push(i);
  return ids;
}

/** The first token whose cumulative probability exceeds u (the last one if none does). */
export function pickWithUniform(dist: SortedDistribution, u: number): number {
  let cum = 0;
  for (let r = 0; r < dist.ids.length; r++) {
    cum += dist.probs[r]!;
    if (cum > u) return dist.ids[r]!;
  }
  return dist.ids[dist.ids.length - 1]!;
}

/** Greedy choice: the highest score, ties to the lowest id. */
export function argmax(scores: Float64Array): number {
  let best = -1;
  let bestScore = -Infinity;
  for (let i = 0; i < scores.length; i++) {
    if (scores[i]! > bestScore) {
      bestScore = scores[i]!;
      best = i;
    }
  }
  if (best < 0) throw new Error('no token left to sample: every logit is −∞');
  return best;
}

export interface TokenSamplerOptions {
  temperature: number;
  topP: number;
  /** The top-k in force (only decides the softmax's summation order; the cut itself is a processor). */
  topK?: number;
}

/** Samples one id from processed scores with the uniform `u` (ignored when temperature is 0). */
export function sampleToken(scores: Float64Array, u: number, opts: TokenSamplerOptions): number {
  if (opts.temperature === 0) return argmax(scores);
  let candidates = finiteIds(scores);
  const k = opts.topK ?? 0;
  if (k > 0 && k <= candidates.length) {
    candidates = candidates.sort((a, b) => scores[b]! - scores[a]! || a - b);
  }
  return pickWithUniform(nucleusDistribution(scores, opts.topP, candidates), u);
}
