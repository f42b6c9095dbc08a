// Rows → engine calls. Engines are loaded once per model folder and kept while the batch runs (a
// list that mixes models switches between at most a few). Size, model and LoRA files are checked
// here, per row, so a row asking for something this model cannot do fails with a reason and the
// rest go on. A row's LoRAs are .safetensors files (names relative to the list's folder; the
// extension may be left out) or, when no such file exists, LoRAs installed in the studio (a finished
// training run by its project's name, or a file in the LoRA folder by its name), applied at their
// weights without reloading the model.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { AppliedLora, Engine, ExecutionProviderChoice, GenerateOptions, LoraWeights, ProgressEvent } from '../engine';
import { loadBundle } from '../engine';
import { readLoraFile } from '../trainer/lora-file';
import { defaultModelDir, HOW_TO_GET_DEFAULT_MODEL, modelsRoot } from '../engine/models';
import type { PlannedRow } from './plan';
import type { RowGenerator, RowImage } from './runner';

/** A model name under the models folder, or a bundle folder (relative to `baseDir`). */
export function resolveModel(model: string | undefined, baseDir = process.cwd()): string {
  if (model === undefined || model === '') {
    const dir = defaultModelDir();
    if (!dir) throw new Error(HOW_TO_GET_DEFAULT_MODEL);
    return path.resolve(dir);
  }
  const candidates = [path.resolve(baseDir, model), path.join(modelsRoot(), model)];
  for (const c of candidates) if (existsSync(path.join(c, 'bundle.json'))) return path.resolve(c);
  throw new Error(`model '${model}' is not installed (looked for a bundle.json in ${candidates.join(' and ')})`);
}

/** The model's display name from its bundle.json (for {model} in file names), without loading it. */
export function modelDisplayName(dir: string): string {
  try {
    const j = JSON.parse(readFileSync(path.join(dir, 'bundle.json'), 'utf8')) as { name?: unknown };
    return typeof j.name === 'string' && j.name ? j.name : path.basename(dir);
  } catch {
    return path.basename(dir);
  }
}

export interface EngineGeneratorOptions {
  /** The model rows without one use (name or folder); default: the embedded model. */
  defaultModel?: string;
  /** Where relative model folders are looked up. */
  baseDir?: string;
  executionProvider?: ExecutionProviderChoice;
  threads?: number;
  onProgress?: (p: ProgressEvent) => void;
  /** How many engines stay loaded at once (least recently used is disposed). */
  keepEngines?: number;
  /**
   * Where engines come from instead (the job worker passes its own cache, shared with single-image
   * jobs); engines from here are not disposed by this generator.
   */
  engineFor?: (dir: string) => Promise<Engine>;
  /**
   * Installed LoRAs by name (the studio's finished runs and LoRA folder), tried when a row's LoRA
   * names no file; returns the file and the name to record, or null.
   */
  installedLora?: (name: string) => { file: string; name: string } | null;
}

/** A row's LoRA name → its file: as given (relative to `baseDir`), else with `.safetensors` added. */
export function resolveLoraFile(name: string, baseDir: string): string {
  const file = path.resolve(baseDir, name);
  if (!existsSync(file) && !/\.safetensors$/i.test(name) && existsSync(`${file}.safetensors`)) return `${file}.safetensors`;
  return file;
}

/** A row's LoRA → the file to read and the name to record: a file first, else an installed LoRA. */
export function findRowLora(name: string, baseDir: string, installed?: EngineGeneratorOptions['installedLora']): { file: string; name: string } {
  const file = resolveLoraFile(name, baseDir);
  if (existsSync(file) || !installed) return { file, name: path.basename(file) };
  const found = installed(name);
  if (found) return found;
  throw new Error(`LoRA '${name}' is neither a file (${file}) nor a LoRA installed in the studio`);
}

export interface EngineGenerator {
  generate: RowGenerator;
  dispose(): Promise<void>;
}

export function engineGenerator(options: EngineGeneratorOptions = {}): EngineGenerator {
  const engines = new Map<string, Promise<Engine>>();
  const keep = options.keepEngines ?? 2;
  const engineFor = async (dir: string): Promise<Engine> => {
    if (options.engineFor) return options.engineFor(dir);
    let e = engines.get(dir);
    if (e) {
      engines.delete(dir); // re-insert: most recently used last
      engines.set(dir, e);
      return e;
    }
    e = loadBundle(dir, { executionProvider: options.executionProvider ?? 'auto', threads: options.threads });
    engines.set(dir, e);
    e.catch(() => engines.delete(dir));
    while (engines.size > keep) {
      const [oldest, old] = engines.entries().next().value as [string, Promise<Engine>];
      engines.delete(oldest);
      void old.then((x) => x.dispose()).catch(() => undefined);
    }
    return e;
  };

  // LoRA weights read once per model and file (a list usually repeats the same few).
  const loraCache = new Map<string, LoraWeights>();
  // A name is resolved once per batch: looking up installed LoRAs lists the LoRA folder.
  const resolved = new Map<string, { file: string; name: string }>();
  const lorasFor = (engine: Engine, row: PlannedRow): AppliedLora[] | undefined => {
    if (!row.loras?.length) return undefined;
    return row.loras.map((l) => {
      let found = resolved.get(l.name);
      if (!found) {
        found = findRowLora(l.name, options.baseDir ?? process.cwd(), options.installedLora);
        resolved.set(l.name, found);
      }
      const { file, name } = found;
      const key = `${engine.bundle.dir}\u0000${file}`;
      let weights = loraCache.get(key);
      if (!weights) {
        weights = readLoraFile(engine.manifest, file);
        loraCache.set(key, weights);
      }
      return { weights, weight: l.weight, name };
    });
  };

  const generate: RowGenerator = async (row: PlannedRow, signal: AbortSignal): Promise<RowImage> => {
    const dir = resolveModel(row.model ?? options.defaultModel, options.baseDir);
    const engine = await engineFor(dir);
    const { width, height } = engine.manifest.image;
    if (row.size && (row.size.width !== width || row.size.height !== height)) {
      throw new Error(`size ${row.size.width}x${row.size.height} is not what model ${engine.manifest.name} makes (${width}x${height}); leave size out or use ${width}x${height}`);
    }
    const common: GenerateOptions = {
      prompt: row.prompt,
      seed: row.seed,
      steps: row.steps,
      cfgScale: row.cfg,
      sampler: row.sampler,
      signal,
      onProgress: options.onProgress,
      previewEveryTokens: 0,
      loras: lorasFor(engine, row),
    };
    const result = row.image ? await engine.edit({ ...common, image: row.image, strength: row.strength }) : await engine.textToImage(common);
    const image = result.images[0];
    if (!image) throw new Error('the engine returned no image');
    return {
      png: image.png,
      width: image.image.width,
      height: image.image.height,
      seed: image.seed,
      model: { name: engine.manifest.name, hash: engine.bundle.hash },
      engineMs: result.timings.totalMs,
      metadata: image.metadata,
      warnings: [...result.warnings, ...result.notices],
    };
  };

  return {
    generate,
    dispose: async () => {
      const all = [...engines.values()];
      engines.clear();
      await Promise.all(all.map((e) => e.then((x) => x.dispose()).catch(() => undefined)));
    },
  };
}
