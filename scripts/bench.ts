// `npm run bench [-- --model DIR --runs N --steps N --threads N --no-torch]`: JSON on stdout.
//
// Engine (onnxruntime-node): text-to-image latency (median of --runs warm runs), AR tokens/s, DiT
// steps/s, VAE decode ms, cold start to first image and peak RSS (both from a fresh child process
// doing one image), and the PyTorch eager reference (modeling.generate's pipeline on the bundle's
// config with modeling's TorchBackend) timed in the same run on the same machine, with the ratio.
// Default model: resources/models/atelier-nano if present, else the fixture bundle (noted in the JSON).
// `batch`: images/min of a --batch-rows batch (files, SQLite rows, manifest) against the engine alone
// making the same images, and the overhead in percent (scripts/bench-batch.ts). `engine.edit`: an instruction
// edit of a generated image (median of --runs, and the first one, which loads the graphs text-to-image did not
// need), and which generator ran it (`edit` in a bundle with an edit generator).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const FIXTURE = path.join(root, 'tests/fixtures/bundle-fixture');
const NANO = path.join(root, 'resources/models/atelier-nano');
const PYTHON = path.join(root, '.venv/bin/python');
const PROMPT = 'a red apple on a blue background';
const EDIT_PROMPT = 'make the background yellow';

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;

interface ColdResult {
  cold_start_ms: number;
  import_ms: number;
  load_ms: number;
  process_uptime_at_first_image_ms: number;
  peak_rss_mb: number;
  provider: string | null;
}

/** Child mode: one image from a fresh process, reporting cold-start time and peak RSS. */
async function coldChild(model: string, steps: number | undefined, threads: number): Promise<void> {
  const t0 = performance.now();
  const { loadBundle } = await import('../src-main/engine');
  const tImported = performance.now();
  const engine = await loadBundle(model, { executionProvider: 'cpu', threads });
  const tLoaded = performance.now();
  await engine.textToImage({ prompt: PROMPT, seed: 1, steps });
  const t1 = performance.now();
  const result: ColdResult = {
    cold_start_ms: round(t1 - t0),
    import_ms: round(tImported - t0),
    load_ms: round(tLoaded - tImported),
    process_uptime_at_first_image_ms: round(process.uptime() * 1000),
    peak_rss_mb: round(process.resourceUsage().maxRSS / 1024),
    provider: engine.executionProvider.provider,
  };
  await engine.dispose();
  process.stdout.write(JSON.stringify(result));
}

// PyTorch eager timing, run with the project's venv. Weights are random-initialised from the bundle's
// config unless a checkpoint is given: the cost of a forward pass does not depend on the weights' values.
const TORCH_SCRIPT = String.raw`
import json, resource, sys, time
t_start = time.perf_counter()
import numpy as np, torch
from pathlib import Path
from tokenizers import Tokenizer
from modeling.config import ModelConfig
from modeling.model import AtelierModel
from modeling.backends import TorchBackend
from modeling.generate import Params, Draws, text_to_image
bundle, runs, steps, threads, prompt, ckpt = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6]
torch.set_num_threads(threads)
meta = json.loads((Path(bundle) / "bundle.json").read_text())
if ckpt:
    from modeling.checkpoint import load_checkpoint
    model, tok = load_checkpoint(ckpt)
    weights = "checkpoint"
else:
    cfg = ModelConfig.from_dict(meta["config"])
    torch.manual_seed(0)
    model = AtelierModel(cfg).eval()
    tok = Tokenizer.from_file(str(Path(bundle) / meta["tokenizer"]["file"]))
    weights = "random init (same config as the bundle)"
backend = TorchBackend(model)
cfg = backend.cfg
params = Params.defaults(cfg, steps=int(steps) if steps else None)
def once(seed):
    t = time.perf_counter()
    text_to_image(backend, tok, [prompt], Draws.seeded(seed, 1, cfg.latent_shape), params)
    return (time.perf_counter() - t) * 1000
first = once(1)
cold = (time.perf_counter() - t_start) * 1000
times = [once(2 + i) for i in range(runs)]
times.sort()
m = len(times) // 2
med = times[m] if len(times) % 2 else (times[m - 1] + times[m]) / 2
print(json.dumps({"latency_ms": {"median": med, "runs": times}, "first_image_ms": first,
                  "process_start_to_first_image_ms": cold, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "threads": torch.get_num_threads(), "torch": torch.__version__, "weights": weights, "steps": params.steps}))
`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      runs: { type: 'string', default: '5' },
      steps: { type: 'string' },
      // The engine's default (runtime/providers.ts defaultThreads), not imported here so that the
      // cold-start child measures loading onnxruntime too.
      threads: { type: 'string', default: String(Math.max(1, Math.min(4, os.availableParallelism()))) },
      checkpoint: { type: 'string', default: '' },
      'no-torch': { type: 'boolean' },
      'batch-rows': { type: 'string', default: '24' },
      'cold-child': { type: 'boolean' },
    },
  });
  const runs = Number(values.runs);
  const steps = values.steps ? Number(values.steps) : undefined;
  const threads = Number(values.threads);
  let model = values.model;
  let note: string | undefined;
  if (!model) {
    if (existsSync(path.join(NANO, 'bundle.json'))) model = NANO;
    else {
      model = FIXTURE;
      note = 'atelier-nano is not installed: benchmarked the tiny random-weight fixture bundle, whose numbers say little about real speed';
    }
  }
  if (values['cold-child']) return coldChild(model, steps, threads);

  // Cold start in a fresh process first, before this process warms the OS file cache further.
  const child = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--cold-child', '--model', model, '--threads', String(threads), ...(steps ? ['--steps', String(steps)] : [])], { cwd: root, encoding: 'utf8' });
  if (child.status !== 0) throw new Error(`cold-start child failed: ${child.stderr}`);
  const cold = JSON.parse(child.stdout) as ColdResult;

  const { loadBundle } = await import('../src-main/engine');
  const engine = await loadBundle(model, { executionProvider: 'cpu', threads });
  await engine.textToImage({ prompt: PROMPT, seed: 0, steps }); // warm-up
  const latencies: number[] = [];
  const arTps: number[] = [];
  const ditSps: number[] = [];
  const vae: number[] = [];
  const breakdown: Record<string, number[]> = { encode: [], ar_prefill: [], ar: [], connector: [], dit: [], vae_decode: [], other: [] };
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const r = await engine.textToImage({ prompt: PROMPT, seed: 100 + i, steps });
    const total = performance.now() - t;
    latencies.push(total);
    const tm = r.timings;
    arTps.push(tm.arTokensPerSecond);
    ditSps.push(tm.ditStepsPerSecond);
    vae.push(tm.vaeDecodeMs);
    breakdown['encode']!.push(tm.encodeMs);
    breakdown['ar_prefill']!.push(tm.arPrefillMs);
    breakdown['ar']!.push(tm.arMs);
    breakdown['connector']!.push(tm.connectorMs);
    breakdown['dit']!.push(tm.ditMs);
    breakdown['vae_decode']!.push(tm.vaeDecodeMs);
    breakdown['other']!.push(total - tm.arMs - tm.connectorMs - tm.ditMs - tm.vaeDecodeMs - tm.encodeMs);
  }
  // Instruction edits (the edit template), on the bundle's edit generator when it has one. The first edit also
  // loads the graphs text-to-image did not need (the encoders, and edit_ar / edit_connector / edit_dit).
  const reference = (await engine.textToImage({ prompt: PROMPT, seed: 1, steps })).images[0]!.png;
  const tFirstEdit = performance.now();
  const firstEdit = await engine.edit({ image: reference, prompt: EDIT_PROMPT, seed: 0, steps });
  const firstEditMs = performance.now() - tFirstEdit;
  const editLatencies: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await engine.edit({ image: reference, prompt: EDIT_PROMPT, seed: 100 + i, steps });
    editLatencies.push(performance.now() - t);
  }
  const m = engine.manifest;
  await engine.dispose();
  const engineMedian = median(latencies);

  let torch: Record<string, unknown> | null = null;
  let torchError: string | undefined;
  if (!values['no-torch']) {
    const py = spawnSync(PYTHON, ['-c', TORCH_SCRIPT, model, String(runs), steps ? String(steps) : '', String(threads), PROMPT, values.checkpoint ?? ''], {
      cwd: root,
      encoding: 'utf8',
      // Like the engine's sessions, PyTorch's OpenMP threads sleep instead of spinning, so a busy
      // machine slows both the same way.
      env: { ...process.env, OMP_WAIT_POLICY: 'PASSIVE' },
    });
    if (py.status === 0) torch = JSON.parse(py.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
    else torchError = (py.stderr || py.stdout).trim().split('\n').slice(-3).join(' | ');
  }
  const torchMedian = torch ? (torch['latency_ms'] as { median: number }).median : null;

  // Batch generation (issue 8): images/min through the batch runner against the engine alone.
  const { benchBatch } = await import('./bench-batch');
  const batch = await benchBatch(model, { rows: Number(values['batch-rows']), steps, threads });

  const manifestText = readFileSync(path.join(model, 'bundle.json'), 'utf8');
  const out = {
    machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, platform: `${process.platform}-${process.arch}`, node: process.version, threads },
    model: { dir: path.relative(root, model) || model, name: m.name, variant: m.variant, image: `${m.image.width}x${m.image.height}`, image_tokens: m.image_tokens.count, steps: steps ?? m.scheduler.steps, cfg_scale: m.scheduler.cfg_scale, ar_cfg_scale: m.sampling.cfg_scale ?? 1, bundle_bytes: (JSON.parse(manifestText) as { files: { bytes: number }[] }).files.reduce((n, f) => n + f.bytes, 0), ...(note ? { note } : {}) },
    engine: {
      provider: cold.provider,
      latency_ms: { median: round(engineMedian), runs: latencies.map((x) => round(x)) },
      ar_tokens_per_s: round(median(arTps)),
      dit_steps_per_s: round(median(ditSps), 2),
      vae_decode_ms: round(median(vae), 2),
      breakdown_ms: Object.fromEntries(Object.entries(breakdown).map(([k, v]) => [k, round(median(v), 2)])),
      cold_start_ms: cold.cold_start_ms,
      cold_start_parts_ms: { import_modules: cold.import_ms, open_and_verify_bundle: cold.load_ms, first_image: round(cold.cold_start_ms - cold.import_ms - cold.load_ms) },
      process_uptime_at_first_image_ms: cold.process_uptime_at_first_image_ms,
      peak_rss_mb_one_image: cold.peak_rss_mb,
      peak_rss_mb_bench_process: round(process.resourceUsage().maxRSS / 1024),
      edit: {
        prompt: EDIT_PROMPT,
        generator: firstEdit.images[0]!.metadata.model.generator ?? 'main',
        first_edit_ms: round(firstEditMs),
        latency_ms: { median: round(median(editLatencies)), runs: editLatencies.map((x) => round(x)) },
      },
    },
    pytorch: torch ?? { error: torchError ?? 'skipped (--no-torch)' },
    speedup_vs_pytorch: torchMedian && engineMedian ? round(torchMedian / engineMedian, 2) : null,
    batch,
  };
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${(e as Error).message}\n`);
  process.exit(1);
});
