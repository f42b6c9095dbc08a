// Bookkeeping of live onnxruntime tensors. Every tensor the engine creates or receives from a graph
// is registered here and released through `dispose`, so tests (and the bench) can assert that a
// finished or cancelled run leaves nothing alive. For CPU tensors dispose() only drops the data
// reference; on GPU providers it frees device memory, which is why ownership matters.
import type { Tensor } from 'onnxruntime-node';

export class TensorLedger {
  private readonly live = new Set<Tensor>();
  private created = 0;

  track<T extends Tensor>(t: T): T {
    this.live.add(t);
    this.created++;
    return t;
  }

  dispose(t: Tensor | undefined | null): void {
    if (!t) return;
    if (this.live.delete(t)) t.dispose();
  }

  disposeAll(tensors: Iterable<Tensor | undefined>): void {
    for (const t of tensors) this.dispose(t);
  }

  /** Tensors registered and not yet disposed. */
  get liveCount(): number {
    return this.live.size;
  }

  get createdCount(): number {
    return this.created;
  }
}
