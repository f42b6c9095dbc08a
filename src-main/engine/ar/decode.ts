// The AR loop (docs/bundle-spec.md, step 2): prefill the prompts, then sample image codes one token
// at a time, collecting the final hidden states at <|img_start|> and at every code for the
// connector. Logits processing and sampling live in ../sampler; this file only moves tensors.
import * as ort from 'onnxruntime-node';
import type { BundleManifest } from '../bundle/manifest';
import type { GraphRunner } from '../bundle/sessions';
import type { TensorLedger } from '../runtime/ledger';
import { KvCache } from './kv-cache';
import { leftPad } from './batch';
import type { LogitsProcessor } from '../sampler/logits';
import { ImageCodeMask, Temperature, TopK, applyProcessors, mixGuidance } from '../sampler/logits';
import { sampleToken } from '../sampler/categorical';

/** One uniform in [0, 1) per call: an Rng on stream 0, or recorded draws in parity tests. */
export interface UniformSource {
  uniform(): number;
}

export interface ArSampling {
  temperature: number;
  topK: number;
  topP: number;
  /** AR classifier-free guidance; 1 (default) runs no unconditional twin. */
  cfgScale?: number;
}

export interface ArRequest {
  /** Prompt ids per batch item (each ends with <|img_start|>). */
  prompts: number[][];
  /** Unconditional prompt ids per item; required when cfgScale ≠ 1. */
  uncondPrompts?: number[][];
  sampling: ArSampling;
  /** One source per batch item. */
  uniforms: UniformSource[];
  signal?: AbortSignal;
  onToken?: (done: number, total: number) => void;
  /** Called every `previewEvery` tokens with the codes so far (per item). */
  onCodes?: (codes: number[][], done: number) => Promise<void> | void;
  previewEvery?: number;
}

export interface ArResult {
  /** Image codes per item (0-based codebook indices, row-major grid). */
  codes: number[][];
  /** Hidden states per item: [condition.length, hidden_size], img_start first. */
  hidden: Float32Array[];
  /** Tokens sampled per second (whole batch, excluding prefill). */
  tokensPerSecond: number;
  prefillMs: number;
}

export function buildProcessors(m: BundleManifest, s: ArSampling): LogitsProcessor[] {
  return [
    new ImageCodeMask(m.vocab.image_code_offset, m.vocab.image_codebook_size),
    new Temperature(s.temperature),
    new TopK(s.topK),
  ];
}

function lastRow(data: Float32Array, row: number, seq: number, width: number): Float64Array {
  const start = (row * seq + (seq - 1)) * width;
  return Float64Array.from(data.subarray(start, start + width));
}

export async function generateCodes(
  m: BundleManifest,
  sessions: GraphRunner,
  ledger: TensorLedger,
  req: ArRequest,
): Promise<ArResult> {
  const items = req.prompts.length;
  const cfg = req.sampling.cfgScale ?? 1;
  const guided = cfg !== 1;
  if (guided && req.uncondPrompts?.length !== items) throw new Error('AR guidance needs one unconditional prompt per item');
  if (req.uniforms.length !== items) throw new Error('one uniform source per batch item is required');
  const rowsPrompts = guided ? [...req.prompts, ...req.uncondPrompts!] : req.prompts;
  const rows = rowsPrompts.length;
  const count = m.image_tokens.count;
  const vocab = m.vocab.total;
  const hiddenSize = m.ar.hidden_size;
  const padded = leftPad(rowsPrompts, m.special_tokens.pad);
  if (padded.length + count > m.ar.max_positions) {
    throw new Error(`prompt of ${padded.length} tokens + ${count} image codes exceeds the model's ${m.ar.max_positions} positions`);
  }
  const processors = buildProcessors(m, req.sampling);
  const codes: number[][] = Array.from({ length: items }, () => []);
  const hidden = Array.from({ length: items }, () => new Float32Array(m.condition.length * hiddenSize));
  const cache = new KvCache(ledger, m.ar.layers, rows, m.ar.kv_heads, m.ar.head_dim);
  let mask = padded.mask;
  let positions = padded.lastPosition.slice();
  const inputs: ort.Tensor[] = [];
  let outputs: Record<string, ort.Tensor> = {};
  const feed = (arr: BigInt64Array, dims: number[]): ort.Tensor => {
    const t = ledger.track(new ort.Tensor('int64', arr, dims));
    inputs.push(t);
    return t;
  };
  const releaseStep = (): void => {
    ledger.disposeAll(inputs.splice(0));
    ledger.disposeAll(Object.values(outputs));
    outputs = {};
  };
  let prefillMs = 0;
  const decodeStart = { t: 0 };
  try {
    req.signal?.throwIfAborted();
    const t0 = performance.now();
    outputs = await sessions.run('ar', {
      input_ids: feed(padded.ids, [rows, padded.length]),
      attention_mask: feed(mask, [rows, padded.length]),
      position_ids: feed(padded.positions, [rows, padded.length]),
      ...cache.feeds(),
    }, ledger);
    prefillMs = performance.now() - t0;
    decodeStart.t = performance.now();
    let seq = padded.length;
    for (let step = 0; step <= count; step++) {
      cache.update(outputs);
      const logits = outputs['logits']!.data as Float32Array;
      const hid = outputs['hidden']!.data as Float32Array;
      for (let b = 0; b < items; b++) {
        const start = (b * seq + (seq - 1)) * hiddenSize;
        hidden[b]!.set(hid.subarray(start, start + hiddenSize), step * hiddenSize);
      }
      if (step === count) break;
      const next = new BigInt64Array(rows);
      for (let b = 0; b < items; b++) {
        const scores = lastRow(logits, b, seq, vocab);
        if (guided) mixGuidance(scores, lastRow(logits, items + b, seq, vocab), cfg);
        applyProcessors(scores, processors);
        const u = req.uniforms[b]!.uniform();
        const token = sampleToken(scores, u, { temperature: req.sampling.temperature, topP: req.sampling.topP, topK: req.sampling.topK });
        codes[b]!.push(token - m.vocab.image_code_offset);
        next[b] = BigInt(token);
        if (guided) next[items + b] = BigInt(token);
      }
      releaseStep();
      req.onToken?.(step + 1, count);
      if (req.onCodes && req.previewEvery && (step + 1) % req.previewEvery === 0 && step + 1 < count) {
        await req.onCodes(codes, step + 1);
      }
      req.signal?.throwIfAborted();
      const total = cache.pastLength + 1;
      const grown = new BigInt64Array(rows * total);
      for (let r = 0; r < rows; r++) {
        grown.set(mask.subarray(r * (total - 1), (r + 1) * (total - 1)), r * total);
        grown[r * total + total - 1] = 1n;
      }
      mask = grown;
      positions = positions.map((p) => p + 1);
      outputs = await sessions.run('ar', {
        input_ids: feed(next, [rows, 1]),
        attention_mask: feed(mask, [rows, total]),
        position_ids: feed(BigInt64Array.from(positions, (p) => BigInt(p)), [rows, 1]),
        ...cache.feeds(),
      }, ledger);
      seq = 1;
    }
  } finally {
    releaseStep();
    cache.dispose();
  }
  const seconds = (performance.now() - decodeStart.t) / 1000;
  return { codes, hidden, tokensPerSecond: seconds > 0 ? (count * items) / seconds : 0, prefillMs };
}
