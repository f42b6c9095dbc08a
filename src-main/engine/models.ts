// Where models live: the embedded default bundle (resources/models/atelier-nano) and a listing of
// bundle folders under a models directory.
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const DEFAULT_MODEL_NAME = 'atelier-nano';

/** resources/models next to the app (repo root in development). */
export function modelsRoot(): string {
  const env = process.env['ATELIER_MODELS_DIR'];
  if (env) return env;
  return fileURLToPath(new URL('../../resources/models', import.meta.url));
}

/** The default bundle's folder, or null when it is not installed. */
export function defaultModelDir(): string | null {
  const dir = path.join(modelsRoot(), DEFAULT_MODEL_NAME);
  return existsSync(path.join(dir, 'bundle.json')) ? dir : null;
}

export const HOW_TO_GET_DEFAULT_MODEL =
  `the default model '${DEFAULT_MODEL_NAME}' is not installed (expected resources/models/${DEFAULT_MODEL_NAME}/bundle.json). ` +
  'Train and export it with modeling/ (see docs and issue "nano model"), or pass --model DIR to use another bundle ' +
  '(e.g. --model tests/fixtures/bundle-fixture for the random-weight test bundle).';

export interface ModelEntry {
  dir: string;
  name: string;
  variant: string;
  license: string;
  width: number;
  height: number;
  bytes: number;
  error?: string;
}

export async function listModels(root = modelsRoot()): Promise<ModelEntry[]> {
  let names: string[];
  try {
    names = (await readdir(root, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch {
    return [];
  }
  const out: ModelEntry[] = [];
  for (const name of names.sort()) {
    const dir = path.join(root, name);
    try {
      const j = JSON.parse(await readFile(path.join(dir, 'bundle.json'), 'utf8')) as {
        name: string;
        variant: string;
        license: string;
        image: { width: number; height: number };
        files: { bytes: number }[];
      };
      out.push({ dir, name: j.name, variant: j.variant, license: j.license, width: j.image.width, height: j.image.height, bytes: j.files.reduce((n, f) => n + f.bytes, 0) });
    } catch (e) {
      if (existsSync(path.join(dir, 'bundle.json'))) {
        out.push({ dir, name, variant: '?', license: '?', width: 0, height: 0, bytes: 0, error: (e as Error).message });
      }
    }
  }
  return out;
}
