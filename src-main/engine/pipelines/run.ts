// The one pipeline every mode shares (docs/bundle-spec.md, steps 1–5): prompt → AR codes → connector
// → DiT → VAE. Modes differ only in the plan they pass: which template, whether a reference image
// conditions the AR and the DiT, whether known latents are blended in, where sampling starts, and
// how the decoded image is finished (the inpaint composite).
import { randomInt } from 'node:crypto';
import * as ort from 'onnxruntime-node';
import type { Bundle } from '../bundle';
import { hasEditGenerator } from '../bundle/manifest';
import type { GraphRunner } from '../bundle/sessions';
import { editGeneratorView } from '../bundle/sessions';
import type { TensorLedger } from '../runtime/ledger';
import { Rng } from '../sampler/rng';
import type { UniformSource } from '../ar/decode';
import { generateCodes } from '../ar/decode';
import { denoise, latentSize } from '../diffusion/denoise';
import { loraInputs } from '../diffusion/lora';
import type { LatentBlend } from '../diffusion/denoise';
import { decodeCodes, decodeLatents, encodeCodes, encodeLatents, latentRgbPreview } from '../diffusion/vae';
import { cellsToGrid, compositeMasked, regenerateCells } from './mask';
import { planarToRgb } from '../image/pixels';
import type { RgbImage } from '../image/pixels';
import { encodePng, resizeRgb } from '../image/io';
import { addMetadata } from '../image/metadata';
import type { AtelierMetadata, GenerationMode } from '../image/metadata';
import { SAMPLER_LABELS, SAMPLER_NAMES } from '../scheduler/flow-match';
import { ENGINE_VERSION } from '../version';
import type { GenerateOptions, GenerationResult, GeneratedImage, Timings } from './types';

export interface PipelinePlan {
  mode: GenerationMode;
  template: 'generate' | 'edit';
  /** Model-size reference pixels [1, 3, H, W] for the AR codes (edit template). */
  refForAr?: Float32Array;
  /** Model-size reference pixels [1, 3, H, W] whose latents condition the DiT. */
  refForDit?: Float32Array;
  /** Inpaint: latent mask [h·w] and the model-size known image [1, 3, H, W]. */
  blend?: { mask: Float32Array; known: Float32Array };
  /**
   * Edit: in the cells whose code the AR kept, blend the DiT's reference latents back after every
   * step, and copy `original` (the input at its own size, after `finish`) — the inpaint blend and
   * composite with a mask per item that the AR chose.
   */
  keep?: { original: RgbImage };
  /** Variations: re-noise these model-size pixels and run the last `strength` of the schedule. */
  init?: { pixels: Float32Array; strength: number };
  /** Turns the decoded model-size image into the delivered one (resize back, composite); before `keep`'s copy. */
  finish?: (img: RgbImage, item: number) => Promise<RgbImage>;
  allowEmptyPrompt?: boolean;
  parentSha256?: string;
  notices: string[];
  extraMeta?: Partial<AtelierMetadata>;
}

export interface EngineContext {
  bundle: Bundle;
  ledger: TensorLedger;
}

class RecordedUniforms implements UniformSource {
  private at = 0;
  constructor(private readonly draws: number[]) {}
  uniform(): number {
    const u = this.draws[this.at++];
    if (u === undefined) throw new Error(`recorded uniforms ran out after ${this.at - 1} draws`);
    return u;
  }
}

function check(cond: boolean, message: string): void {
  if (!cond) throw new RangeError(message);
}

function validate(o: GenerateOptions): void {
  if (o.seed !== undefined) check(Number.isSafeInteger(o.seed) && o.seed >= 0, `seed must be a non-negative integer (got ${o.seed})`);
  if (o.steps !== undefined) check(Number.isInteger(o.steps) && o.steps >= 1 && o.steps <= 1000, `steps must be an integer in 1…1000 (got ${o.steps})`);
  if (o.batch !== undefined) check(Number.isInteger(o.batch) && o.batch >= 1 && o.batch <= 64, `batch must be an integer in 1…64 (got ${o.batch})`);
  if (o.cfgScale !== undefined) check(Number.isFinite(o.cfgScale), `cfg scale must be a number (got ${o.cfgScale})`);
  if (o.shift !== undefined) check(o.shift > 0, `shift must be > 0 (got ${o.shift})`);
  if (o.sampler !== undefined) check(SAMPLER_NAMES.includes(o.sampler), `sampler must be one of ${SAMPLER_NAMES.join(', ')} (got ${o.sampler})`);
  if (o.temperature !== undefined) check(o.temperature >= 0 && Number.isFinite(o.temperature), `temperature must be ≥ 0 (got ${o.temperature})`);
  if (o.topK !== undefined) check(Number.isInteger(o.topK) && o.topK >= 0, `top-k must be an integer ≥ 0 (got ${o.topK})`);
  if (o.topP !== undefined) check(o.topP > 0 && o.topP <= 1, `top-p must be in (0, 1] (got ${o.topP})`);
}

async function previewPng(img: RgbImage, size: number): Promise<Uint8Array> {
  const small = img.width === size ? img : await resizeRgb(img, size, Math.round((img.height * size) / img.width));
  return encodePng(small, { compressionLevel: 1 });
}

/** Repeats one item's data `times` times. */
function repeat(data: Float32Array, times: number): Float32Array {
  const out = new Float32Array(data.length * times);
  for (let b = 0; b < times; b++) out.set(data, b * data.length);
  return out;
}

export async function runPipeline(ctx: EngineContext, opts: GenerateOptions, plan: PipelinePlan): Promise<GenerationResult> {
  validate(opts);
  const { bundle, ledger } = ctx;
  const m = bundle.manifest;
  const loraActive = Boolean(opts.loras?.some((l) => l.weight !== 0));
  // The edit template (edits, variations) runs on the bundle's edit generator when it has one; with a LoRA it
  // stays on the bundle's own generator, the DiT the LoRA was trained against. Shared graphs are the same either way.
  const generator: 'main' | 'edit' = plan.template === 'edit' && hasEditGenerator(m) && !loraActive ? 'edit' : 'main';
  const sessions: GraphRunner = generator === 'edit' ? editGeneratorView(bundle.sessions) : bundle.sessions;
  const t0 = performance.now();
  const signal = opts.signal;
  const prompt = opts.prompt ?? '';
  if (!plan.allowEmptyPrompt && prompt.trim() === '') {
    throw new RangeError(plan.template === 'edit' ? 'the edit instruction is empty: say what to change' : 'the prompt is empty: describe the image to generate');
  }
  const batch = opts.batch ?? 1;
  const seed = opts.seed ?? randomInt(0, 2 ** 32);
  const steps = opts.steps ?? m.scheduler.steps;
  const cfgScale = opts.cfgScale ?? m.scheduler.cfg_scale;
  const shift = opts.shift ?? m.scheduler.shift;
  const sampler = opts.sampler ?? 'euler';
  const sampling = {
    temperature: opts.temperature ?? (plan.template === 'edit' ? m.sampling.edit_temperature : undefined) ?? m.sampling.temperature,
    topK: opts.topK ?? m.sampling.top_k,
    topP: opts.topP ?? m.sampling.top_p,
    cfgScale: opts.arCfgScale ?? (plan.template === 'edit' ? m.sampling.edit_cfg_scale : m.sampling.cfg_scale) ?? 1,
  };
  const { width: W, height: H } = m.image;
  const per = latentSize(m);
  const timings: Timings = { encodeMs: 0, arMs: 0, arPrefillMs: 0, arTokensPerSecond: 0, connectorMs: 0, ditMs: 0, ditStepsPerSecond: 0, vaeDecodeMs: 0, totalMs: 0 };
  const progress = opts.onProgress ?? (() => undefined);
  const previewSize = Math.min(W, 256);

  // 1. Prompt (and the reference's codes for the edit template).
  const tokenizer = await bundle.tokenizer();
  signal?.throwIfAborted();
  let refCodes: BigInt64Array | undefined;
  const tEncode = performance.now();
  if (plan.template === 'edit') {
    if (!plan.refForAr) throw new Error('edit needs a reference image');
    progress({ stage: 'encode', done: 0, total: 1 });
    refCodes = await encodeCodes(m, sessions, ledger, plan.refForAr, 1);
    progress({ stage: 'encode', done: 1, total: 1 });
  }
  const encoded = tokenizer.encodeTemplate(plan.template, prompt, refCodes);
  const warnings = [...encoded.warnings];
  const uncond = sampling.cfgScale !== 1 ? tokenizer.encodeTemplate(plan.template, '', refCodes).ids : undefined;
  timings.encodeMs += performance.now() - tEncode;

  // 2. AR sampling.
  const uniforms: UniformSource[] = Array.from({ length: batch }, (_, b) => {
    const recorded = opts.draws?.uniforms?.[b];
    return recorded ? new RecordedUniforms(recorded) : new Rng(seed + b, 0);
  });
  const [gh, gw] = m.image_tokens.grid;
  const previewEvery = opts.onPreview ? (opts.previewEveryTokens ?? gw) : 0;
  const tAr = performance.now();
  const ar = await generateCodes(m, sessions, ledger, {
    prompts: Array.from({ length: batch }, () => encoded.ids),
    uncondPrompts: uncond ? Array.from({ length: batch }, () => uncond) : undefined,
    sampling,
    uniforms,
    signal,
    onToken: (done, total) => progress({ stage: 'ar', done, total }),
    previewEvery,
    onCodes: async (codes, done) => {
      // Cheap preview: the image tokenizer's decoder on the codes so far, the rest filled with the last code.
      const count = m.image_tokens.count;
      const filled = new BigInt64Array(count);
      const have = codes[0]!;
      for (let i = 0; i < count; i++) filled[i] = BigInt(have[Math.min(i, have.length - 1)]!);
      const px = await decodeCodes(m, sessions, ledger, filled, 1);
      await opts.onPreview?.({ stage: 'ar', done, total: count, png: await previewPng(planarToRgb(px, W, H), previewSize) });
    },
  });
  timings.arMs = performance.now() - tAr;
  timings.arPrefillMs = ar.prefillMs;
  timings.arTokensPerSecond = ar.tokensPerSecond;
  signal?.throwIfAborted();

  // 3. Connector.
  const tConn = performance.now();
  const nCond = m.condition.length;
  const hiddenAll = new Float32Array(batch * nCond * m.ar.hidden_size);
  ar.hidden.forEach((h, b) => hiddenAll.set(h, b * h.length));
  const hiddenT = ledger.track(new ort.Tensor('float32', hiddenAll, [batch, nCond, m.ar.hidden_size]));
  let cond: Float32Array;
  let connOut: Record<string, ort.Tensor> = {};
  try {
    connOut = await sessions.run('connector', { hidden: hiddenT }, ledger);
    cond = Float32Array.from(connOut['cond']!.data as Float32Array);
  } finally {
    ledger.dispose(hiddenT);
    ledger.disposeAll(Object.values(connOut));
  }
  timings.connectorMs = performance.now() - tConn;

  // 4. Diffusion.
  let noise: Float32Array;
  if (opts.draws?.noise) {
    if (opts.draws.noise.length !== batch * per) throw new Error(`recorded noise has ${opts.draws.noise.length} values, expected ${batch * per}`);
    noise = opts.draws.noise;
  } else {
    noise = new Float32Array(batch * per);
    for (let b = 0; b < batch; b++) noise.set(new Rng(seed + b, 1).normals(per), b * per);
  }
  const tLat = performance.now();
  const ref = plan.refForDit ? repeat(await encodeLatents(m, sessions, ledger, plan.refForDit, 1), batch) : null;
  let blend: LatentBlend | undefined;
  if (plan.blend) {
    const known = repeat(await encodeLatents(m, sessions, ledger, plan.blend.known, 1), batch);
    blend = { mask: plan.blend.mask, known, noise };
  }
  // An edit that keeps what its AR kept: per item, the cells whose code equals the reference's.
  let regenerate: Uint8Array[] | undefined;
  if (plan.keep) {
    if (!refCodes || !ref) throw new Error('keeping unchanged cells needs an edit reference');
    regenerate = ar.codes.map((codes) => regenerateCells(codes, refCodes));
    const plane = m.latent.height * m.latent.width;
    const mask = new Float32Array(batch * plane);
    regenerate.forEach((cells, b) => mask.set(cellsToGrid(cells, gh, gw, m.latent.height, m.latent.width), b * plane));
    blend = { mask, known: ref, noise };
  }
  let init: { latents: Float32Array; startIndex: number } | undefined;
  if (plan.init) {
    const s = plan.init.strength;
    check(s > 0 && s <= 1, `strength must be in (0, 1] (got ${s})`);
    const latents = repeat(await encodeLatents(m, sessions, ledger, plan.init.pixels, 1), batch);
    init = { latents, startIndex: Math.min(steps - 1, steps - Math.round(steps * s)) };
  }
  timings.encodeMs += performance.now() - tLat;
  const tDit = performance.now();
  const dit = await denoise(m, sessions, ledger, {
    batch,
    noise,
    cond,
    ref,
    steps,
    shift,
    cfgScale,
    sampler,
    blend,
    init,
    // LoRAs switch the DiT to the dit_lora graph; weight-0 LoRAs are dropped, none left = plain dit.
    lora: loraActive && opts.loras ? loraInputs(m, opts.loras) : undefined,
    signal,
    onStep: async (done, total, x) => {
      progress({ stage: 'dit', done, total });
      if (opts.onPreview) {
        const rgb = planarToRgb(latentRgbPreview(m, x, 0), m.latent.width, m.latent.height);
        await opts.onPreview({ stage: 'dit', done, total, png: await previewPng(rgb, previewSize) });
      }
    },
  });
  timings.ditMs = performance.now() - tDit;
  timings.ditStepsPerSecond = dit.stepsPerSecond;
  signal?.throwIfAborted();

  // 5. Decode.
  progress({ stage: 'decode', done: 0, total: 1 });
  const tVae = performance.now();
  const pixels = await decodeLatents(m, sessions, ledger, dit.latents, batch);
  timings.vaeDecodeMs = performance.now() - tVae;
  signal?.throwIfAborted();
  const info = bundle.sessions.providerInfo;
  const provider = info.provider && info.arProvider && info.arProvider !== info.provider ? `${info.provider} (AR on ${info.arProvider})` : info.provider;
  const images: GeneratedImage[] = [];
  for (let b = 0; b < batch; b++) {
    let img = planarToRgb(pixels, W, H, b);
    if (plan.finish) img = await plan.finish(img, b);
    let kept: AtelierMetadata['keep_unchanged'];
    if (plan.keep && regenerate) {
      // At the delivered size: a kept cell is the input's own pixels, not a resampled copy.
      const { original } = plan.keep;
      if (img.width !== original.width || img.height !== original.height) throw new Error('keeping cells needs the result at the input\'s size');
      const cells = regenerate[b]!;
      const px = cellsToGrid(cells, gh, gw, img.height, img.width);
      const masked = px.reduce((a, v) => a + v, 0);
      img = compositeMasked(original, img, { width: img.width, height: img.height, pixels: px, masked, notices: [] });
      kept = { cells_kept: cells.length - cells.reduce((a, v) => a + v, 0), cells: cells.length };
    }
    const metadata: AtelierMetadata = {
      app: 'atelier',
      engine_version: ENGINE_VERSION,
      mode: plan.mode,
      prompt,
      seed: seed + b,
      batch_index: b,
      steps,
      cfg_scale: cfgScale,
      sampler: SAMPLER_LABELS[sampler],
      shift,
      ar: { temperature: sampling.temperature, top_k: sampling.topK, top_p: sampling.topP, cfg_scale: sampling.cfgScale },
      width: img.width,
      height: img.height,
      model: { name: m.name, variant: m.variant, hash: bundle.hash, ...(generator === 'edit' ? { generator } : {}) },
      execution_provider: provider,
      parent: plan.parentSha256 ? { sha256: plan.parentSha256, ...(opts.parentId ? { id: opts.parentId } : {}) } : null,
      ...plan.extraMeta,
      ...(kept ? { keep_unchanged: kept } : {}),
      ...(loraActive && opts.loras
        ? { loras: opts.loras.filter((l) => l.weight !== 0).map((l, i) => ({ name: l.name ?? `lora-${i + 1}`, weight: l.weight, rank: l.weights.rank })) }
        : {}),
      warnings: [...warnings, ...plan.notices],
      created: new Date().toISOString(),
    };
    const png = addMetadata(await encodePng(img), metadata);
    images.push({ png, image: img, seed: seed + b, metadata, codes: ar.codes[b]! });
  }
  progress({ stage: 'decode', done: 1, total: 1 });
  timings.totalMs = performance.now() - t0;
  return {
    images,
    warnings,
    notices: plan.notices,
    timings,
    executionProvider: provider,
    intermediates: opts.keepIntermediates
      ? { promptIds: encoded.ids, codes: ar.codes, cond, noise, latents: dit.latents, pixels, ...(regenerate ? { regenerateCells: regenerate.map((r) => Array.from(r)) } : {}) }
      : undefined,
  };
}
