// The `atelier` command line:
//   atelier generate "prompt" -o out.png [--seed N --steps N --cfg X --batch N --sampler euler|heun …]
//   atelier edit in.png "instruction" -o out.png [--keep | --no-keep]
//   atelier inpaint in.png --mask mask.png "prompt" -o out.png
//   atelier outpaint in.png --left N --right N --top N --bottom N "prompt" -o out.png
//   atelier variations in.png -o out.png [--strength 0.6] ["instruction"]
//   atelier info image.png        (the parameters stored in a PNG)
//   atelier models                (installed model bundles)
//   atelier serve [--port N]      (the studio in a browser)
// Run as `node --import tsx src-main/cli/index.ts …` or `npm run atelier -- …`.
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { AppliedLora, Engine, GenerateOptions, GenerationResult, SamplerName } from '../engine';
import { isExecutionProvider, loadBundle, readMetadata, SAMPLER_NAMES } from '../engine';
import { defaultModelDir, HOW_TO_GET_DEFAULT_MODEL, listModels, modelsRoot } from '../engine/models';
import { ProgressBar } from './progress';

export class UsageError extends Error {}

const USAGE = `usage:
  atelier generate "prompt" -o out.png [options]
  atelier edit in.png "instruction" -o out.png [options]
  atelier inpaint in.png --mask mask.png "prompt" -o out.png [options]
  atelier outpaint in.png [--left N --right N --top N --bottom N] "prompt" -o out.png [options]
  atelier variations in.png -o out.png [--strength 0.6] ["instruction"] [options]
  atelier info image.png
  atelier batch prompts.csv --out DIR [--format png|jpeg|webp] [--template T] [--zip] [--force]
  atelier export --out DIR (--all | --ids … | --batch ID | --search TEXT) [--format …] [--zip]
  atelier train-lora DATASET -o my.safetensors [--steps N --rank N --trigger WORD …]  (--help for all)
  atelier models
  atelier serve [--port N] [--host H] [--data DIR]

options:
  --seed N         random seed (item b of a batch uses seed + b; default: random)
  --steps N        diffusion steps (default: the model's)
  --cfg X          diffusion guidance scale (default: the model's)
  --shift X        schedule shift (default: the model's)
  --sampler S      euler (default) or heun
  --batch N        images per run (out.png → out-0.png, out-1.png, …)
  --temperature X  --top-k N  --top-p X   AR sampling (default: the model's)
  --ar-cfg X       AR guidance against the empty prompt (default: the model's; 1 = off)
  --strength X     edit/inpaint/variations: how far from the input (0 < X ≤ 1)
  --keep, --no-keep  edit: keep the input where the model kept its image tokens (default: the model's)
  --model DIR      model bundle folder (default: resources/models/atelier-nano)
  --lora F[:W]     apply a LoRA file at weight W (default 1); repeatable
  --ep NAME        execution provider: auto (default), cpu, webgpu, cuda, dml, coreml
  --threads N      CPU threads per graph (default: min(4, CPU cores))
  --quiet          no progress bar`;

const OPTIONS = {
  output: { type: 'string', short: 'o' },
  seed: { type: 'string' },
  steps: { type: 'string' },
  cfg: { type: 'string' },
  shift: { type: 'string' },
  sampler: { type: 'string' },
  batch: { type: 'string' },
  temperature: { type: 'string' },
  'top-k': { type: 'string' },
  'top-p': { type: 'string' },
  'ar-cfg': { type: 'string' },
  model: { type: 'string' },
  ep: { type: 'string' },
  threads: { type: 'string' },
  mask: { type: 'string' },
  strength: { type: 'string' },
  keep: { type: 'boolean' },
  'no-keep': { type: 'boolean' },
  left: { type: 'string' },
  right: { type: 'string' },
  top: { type: 'string' },
  bottom: { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  data: { type: 'string' },
  lora: { type: 'string', multiple: true },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

function num(values: Values, key: keyof Values, integer: boolean): number | undefined {
  const raw = values[key];
  if (raw === undefined || typeof raw !== 'string') return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw new UsageError(`--${String(key)} must be ${integer ? 'an integer' : 'a number'} (got '${raw}')`);
  }
  return n;
}

function resolveModelDir(values: Values): string {
  if (values.model) {
    if (!existsSync(values.model)) throw new Error(`model folder '${values.model}' does not exist`);
    return values.model;
  }
  const dir = defaultModelDir();
  if (!dir) throw new Error(HOW_TO_GET_DEFAULT_MODEL);
  return dir;
}

async function openEngine(values: Values): Promise<Engine> {
  const ep = values.ep ?? 'auto';
  if (!isExecutionProvider(ep)) throw new UsageError(`--ep must be one of auto, cpu, webgpu, cuda, dml, coreml (got '${ep}')`);
  return loadBundle(resolveModelDir(values), { executionProvider: ep, threads: num(values, 'threads', true) });
}

/** The --lora files of this invocation, read after the model loads (commonOptions hands out this array). */
const cliLoras: AppliedLora[] = [];

function commonOptions(values: Values, prompt: string, bar: ProgressBar | null): GenerateOptions {
  const sampler = values.sampler;
  if (sampler !== undefined && !SAMPLER_NAMES.includes(sampler as SamplerName)) {
    throw new UsageError(`--sampler must be one of ${SAMPLER_NAMES.join(', ')} (got '${sampler}')`);
  }
  return {
    prompt,
    seed: num(values, 'seed', true),
    steps: num(values, 'steps', true),
    cfgScale: num(values, 'cfg', false),
    shift: num(values, 'shift', false),
    sampler: sampler as SamplerName | undefined,
    batch: num(values, 'batch', true),
    temperature: num(values, 'temperature', false),
    topK: num(values, 'top-k', true),
    topP: num(values, 'top-p', false),
    arCfgScale: num(values, 'ar-cfg', false),
    // Filled once the model is loaded (the LoRA files are checked against it): see run() in main.
    loras: values.lora?.length ? cliLoras : undefined,
    onProgress: bar ? (p) => bar.update(p) : undefined,
  };
}

/** out.png for one image; out-0.png, out-1.png, … for a batch. */
export function outputPaths(output: string, count: number): string[] {
  if (count === 1) return [output];
  const ext = path.extname(output) || '.png';
  const base = output.slice(0, output.length - path.extname(output).length);
  return Array.from({ length: count }, (_, i) => `${base}-${i}${ext}`);
}

async function writeResult(result: GenerationResult, output: string, log: (s: string) => void): Promise<void> {
  const paths = outputPaths(output, result.images.length);
  for (const [i, img] of result.images.entries()) {
    await writeFile(paths[i]!, img.png);
    const kept = img.metadata.keep_unchanged;
    const editor = img.metadata.model.generator === 'edit' ? ', on the edit generator' : '';
    log(`wrote ${paths[i]} (seed ${img.seed}, ${img.image.width}×${img.image.height}${kept ? `, kept ${kept.cells_kept} of ${kept.cells} cells of the input` : ''}${editor})`);
  }
  for (const w of result.warnings) log(`warning: ${w}`);
  for (const n of result.notices) log(`note: ${n}`);
  const t = result.timings;
  log(`time ${(t.totalMs / 1000).toFixed(2)}s (AR ${(t.arMs / 1000).toFixed(2)}s, DiT ${(t.ditMs / 1000).toFixed(2)}s, VAE ${(t.vaeDecodeMs / 1000).toFixed(2)}s) on ${result.executionProvider}`);
}

export async function main(argv: string[], log: (s: string) => void = (s) => process.stderr.write(s + '\n')): Promise<void> {
  // batch and export have their own options (src-main/cli/batch.ts, export.ts).
  if (argv[0] === 'batch') return (await import('./batch')).batchMain(argv.slice(1), log);
  if (argv[0] === 'export') return (await import('./export')).exportMain(argv.slice(1), log);
  if (argv[0] === 'train-lora') return (await import('./train-lora')).trainLoraMain(argv.slice(1), log);
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  const [command, ...args] = positionals;
  if (values.help || !command) {
    log(USAGE);
    if (!command && !values.help) throw new UsageError('no command given');
    return;
  }
  const needOutput = (): string => {
    if (!values.output) throw new UsageError(`${command} needs -o OUT.png`);
    return values.output;
  };
  const needArgs = (n: number, what: string): string[] => {
    if (args.length !== n) throw new UsageError(`${command} takes ${what} (got ${args.length} argument${args.length === 1 ? '' : 's'})`);
    return args;
  };
  const bar = values.quiet ? null : new ProgressBar();
  cliLoras.length = 0;
  const run = async (fn: (engine: Engine) => Promise<GenerationResult>): Promise<void> => {
    const output = needOutput();
    num(values, 'threads', true);
    const engine = await openEngine(values);
    try {
      cliLoras.push(...(await import('./train-lora')).loadCliLoras(values.lora, engine.manifest));
    } catch (e) {
      await engine.dispose();
      throw e;
    }
    const ac = new AbortController();
    const onSigint = (): void => {
      log('\ncancelling…');
      ac.abort(new Error('cancelled by the user'));
    };
    process.once('SIGINT', onSigint);
    try {
      const result = await fn(engine);
      bar?.done();
      const info = engine.executionProvider;
      for (const r of info.fallbackReasons) log(`note: skipped execution provider ${r}`);
      await writeResult(result, output, log);
    } finally {
      bar?.done();
      process.off('SIGINT', onSigint);
      await engine.dispose();
    }
  };
  switch (command) {
    case 'generate': {
      const [prompt] = needArgs(1, 'one "prompt"');
      const o = commonOptions(values, prompt!, bar);
      await run((e) => e.textToImage(o));
      return;
    }
    case 'edit': {
      const [image, instruction] = needArgs(2, 'an input image and an "instruction"');
      const o = commonOptions(values, instruction!, bar);
      if (values.keep && values['no-keep']) throw new UsageError('edit takes --keep or --no-keep, not both');
      const keepUnchanged = values.keep ? true : values['no-keep'] ? false : undefined;
      await run((e) => e.edit({ ...o, image: image!, strength: num(values, 'strength', false), keepUnchanged }));
      return;
    }
    case 'inpaint': {
      const [image, prompt] = needArgs(2, 'an input image and a "prompt"');
      if (!values.mask) throw new UsageError('inpaint needs --mask MASK.png (white = regenerate)');
      const o = commonOptions(values, prompt!, bar);
      await run((e) => e.inpaint({ ...o, image: image!, mask: values.mask!, strength: num(values, 'strength', false) }));
      return;
    }
    case 'outpaint': {
      const [image, prompt] = needArgs(2, 'an input image and a "prompt"');
      const o = {
        ...commonOptions(values, prompt!, bar),
        image: image!,
        left: num(values, 'left', true),
        right: num(values, 'right', true),
        top: num(values, 'top', true),
        bottom: num(values, 'bottom', true),
      };
      await run((e) => e.outpaint(o));
      return;
    }
    case 'variations': {
      if (args.length < 1 || args.length > 2) throw new UsageError('variations takes an input image and an optional "instruction"');
      const [image, instruction] = args;
      const { prompt: _unused, ...rest } = commonOptions(values, instruction ?? '', bar);
      const o = { ...rest, prompt: instruction, image: image!, strength: num(values, 'strength', false) };
      await run((e) => e.variations(o));
      return;
    }
    case 'info': {
      const [file] = needArgs(1, 'one image file');
      const meta = readMetadata(new Uint8Array(await readFile(file!)));
      process.stdout.write(JSON.stringify({ parameters: meta.parameters, atelier: meta.atelier }, null, 2) + '\n');
      return;
    }
    case 'models': {
      const models = await listModels();
      if (models.length === 0) {
        log(`no models in ${modelsRoot()}. ${HOW_TO_GET_DEFAULT_MODEL}`);
        return;
      }
      for (const m of models) {
        const size = `${(m.bytes / 1e6).toFixed(1)} MB`;
        process.stdout.write(m.error ? `${m.name}\tBROKEN: ${m.error}\n` : `${m.name}\t${m.variant}\t${m.width}×${m.height}\t${size}\t${m.license}\t${m.dir}\n`);
      }
      return;
    }
    case 'serve': {
      const port = num(values, 'port', true) ?? 0;
      // Imported lazily: the server pulls in the store, the job queue and the API.
      const { startServer } = await import('../server');
      const { defaultDataDir } = await import('../server/data-dir');
      const { repoRoot } = await import('../server/package-info');
      const server = await startServer({
        port,
        host: values.host ?? '127.0.0.1',
        dataDir: values.data ?? defaultDataDir(),
        rendererDir: path.join(repoRoot(), 'out', 'renderer'),
        log,
      });
      process.stdout.write(`Atelier is running at ${server.url}\n`);
      await new Promise<void>((resolve) => {
        const stop = (): void => void server.close().then(resolve);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      return;
    }
    default:
      throw new UsageError(`unknown command '${command}'`);
  }
}

const invokedDirectly = process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname);
if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    () => process.exit(0),
    (e: unknown) => {
      const err = e as Error & { code?: string };
      const usage = e instanceof UsageError || err.code?.startsWith('ERR_PARSE_ARGS');
      process.stderr.write(`atelier: ${usage ? '' : 'error: '}${err.message}${usage ? '\n(atelier --help for usage)' : ''}\n`);
      process.exit(usage ? 2 : 1);
    },
  );
}
