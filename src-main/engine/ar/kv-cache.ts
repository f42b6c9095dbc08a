// The AR key/value cache. It owns the past tensors: each step's present_* outputs replace them and the
// replaced ones are disposed at once, so a long decode holds one cache's worth of memory, and a
// cancelled decode releases everything through dispose().
import * as ort from 'onnxruntime-node';
import type { TensorLedger } from '../runtime/ledger';

export class KvCache {
  private keys: ort.Tensor[] = [];
  private values: ort.Tensor[] = [];
  private length = 0;

  constructor(
    private readonly ledger: TensorLedger,
    private readonly layers: number,
    private readonly batch: number,
    private readonly kvHeads: number,
    private readonly headDim: number,
  ) {
    for (let i = 0; i < layers; i++) {
      this.keys.push(this.empty());
      this.values.push(this.empty());
    }
  }

  private empty(): ort.Tensor {
    return this.ledger.track(new ort.Tensor('float32', new Float32Array(0), [this.batch, this.kvHeads, 0, this.headDim]));
  }

  /** Positions held (the `past` dimension). */
  get pastLength(): number {
    return this.length;
  }

  /** past_key_i / past_value_i feeds for the next run. */
  feeds(): Record<string, ort.Tensor> {
    const f: Record<string, ort.Tensor> = {};
    for (let i = 0; i < this.layers; i++) {
      f[`past_key_${i}`] = this.keys[i]!;
      f[`past_value_${i}`] = this.values[i]!;
    }
    return f;
  }

  /**
   * Takes ownership of the present_* tensors in `outputs` (removing them from the record) and
   * disposes the tensors they replace.
   */
  update(outputs: Record<string, ort.Tensor>): void {
    for (let i = 0; i < this.layers; i++) {
      const k = outputs[`present_key_${i}`];
      const v = outputs[`present_value_${i}`];
      if (!k || !v) throw new Error(`graph 'ar' returned no present_key_${i}/present_value_${i}`);
      delete outputs[`present_key_${i}`];
      delete outputs[`present_value_${i}`];
      this.ledger.dispose(this.keys[i]);
      this.ledger.dispose(this.values[i]);
      this.keys[i] = k;
      this.values[i] = v;
    }
    const dims = this.keys[0]?.dims;
    this.length = dims ? Number(dims[2]) : 0;
  }

  dispose(): void {
    this.ledger.disposeAll(this.keys);
    this.ledger.disposeAll(this.values);
    this.keys = [];
    this.values = [];
    this.length = 0;
  }
}
