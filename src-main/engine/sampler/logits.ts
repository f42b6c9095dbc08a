// Logits processors of the AR loop (bundle-spec.md, step 2), kept apart from the loop so each is
// testable alone. They work on one row of scores (one batch item, last position) in float64 and
// write −Infinity for excluded ids.

export interface LogitsProcessor {
  readonly name: string;
  process(scores: Float64Array): void;
}

/** Keeps only the image-code ids [offset, offset + size). */
export class ImageCodeMask implements LogitsProcessor {
  readonly name = 'image-code-mask';
  constructor(
    private readonly offset: number,
    private readonly size: number,
  ) {}

  process(scores: Float64Array): void {
    const end = this.offset + this.size;
    if (end > scores.length) {
      throw new RangeError(`image codes [${this.offset}, ${end}) do not fit in ${scores.length} logits`);
    }
    scores.fill(-Infinity, 0, this.offset);
    scores.fill(-Infinity, end);
  }
}

/** Divides by the temperature; temperature 0 is greedy and handled by the sampler instead. */
export class Temperature implements LogitsProcessor {
  readonly name = 'temperature';
  constructor(private readonly temperature: number) {
    if (!(temperature >= 0) || !Number.isFinite(temperature)) {
      throw new RangeError(`temperature must be a finite number ≥ 0 (got ${temperature})`);
    }
  }

  process(scores: Float64Array): void {
    if (this.temperature === 0 || this.temperature === 1) return;
    for (let i = 0; i < scores.length; i++) scores[i] = scores[i]! / this.temperature;
  }
}

/** Keeps the k largest scores (ties broken by lower id); k = 0 keeps all. */
export class TopK implements LogitsProcessor {
  readonly name = 'top-k';
  constructor(private readonly k: number) {
    if (!Number.isInteger(k) || k < 0) throw new RangeError(`top_k must be an integer ≥ 0 (got ${k})`);
  }

  process(scores: Float64Array): void {
    if (this.k === 0) return;
    // Find the k-th largest value with a native numeric sort (no comparator: fast), then keep
    // everything above it and, among values equal to it, the lowest ids until k are kept.
    let n = 0;
    for (let i = 0; i < scores.length; i++) if (scores[i]! > -Infinity) n++;
    if (this.k >= n) return;
    const finite = new Float64Array(n);
    n = 0;
    for (let i = 0; i < scores.length; i++) if (scores[i]! > -Infinity) finite[n++] = scores[i]!;
    finite.sort();
    const threshold = finite[n - this.k]!;
    let above = 0;
    for (let i = n - this.k; i < n; i++) if (finite[i]! > threshold) above++;
    let tiesLeft = this.k - above;
    for (let i = 0; i < scores.length; i++) {
      const v = scores[i]!;
      if (v > threshold) continue;
      if (v === threshold && tiesLeft > 0) {
        tiesLeft--;
        continue;
      }
      scores[i] = -Infinity;
    }
  }
}

/**
 * Classifier-free guidance on the AR logits: `uncond + scale·(cond − uncond)`. The loop runs an
 * unconditional twin of each item and calls `mix` before the other processors.
 */
export function mixGuidance(cond: Float64Array, uncond: Float64Array, scale: number): void {
  for (let i = 0; i < cond.length; i++) {
    const u = uncond[i]!;
    cond[i] = u + scale * (cond[i]! - u);
  }
}

export function applyProcessors(scores: Float64Array, processors: readonly LogitsProcessor[]): void {
  for (const p of processors) p.process(scores);
}
