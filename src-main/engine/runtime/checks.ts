// Output sanity: a graph that emits NaN or ±Inf (bad weights, fp16 overflow on a GPU provider)
// would otherwise surface as a black or noisy image much later. The error names the graph.
import type { Tensor } from 'onnxruntime-node';

export class GraphOutputError extends Error {
  constructor(
    readonly role: string,
    readonly output: string,
    message: string,
  ) {
    super(message);
    this.name = 'GraphOutputError';
  }
}

/** Index of the first non-finite value, or −1. */
export function firstNonFinite(data: Float32Array): number {
  for (let i = 0; i < data.length; i++) {
    // NaN fails every comparison; x − x is NaN for ±Inf.
    const v = data[i]!;
    if (v - v !== 0) return i;
  }
  return -1;
}

export function assertFinite(role: string, name: string, t: Tensor): void {
  if (t.type !== 'float32') return;
  const data = t.data as Float32Array;
  const at = firstNonFinite(data);
  if (at >= 0) {
    const what = Number.isNaN(data[at]) ? 'NaN' : 'Inf';
    throw new GraphOutputError(
      role,
      name,
      `graph '${role}' produced ${what} in its output '${name}' (element ${at} of ${data.length}); the model weights or the execution provider are broken for this input`,
    );
  }
}
