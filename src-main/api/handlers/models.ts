// Lists the model bundles found under the model roots. Only bundle.json is read here (cheap);
// the engine verifies files and hashes when it loads a bundle.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelBundleInfo } from '../../../src-shared/contract';
import type { ModelRoot } from '../core';

const SUPPORTED_FORMAT_VERSION = 1;

function text(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function describeBundle(dir: string, id: string, origin: ModelRoot['origin']): ModelBundleInfo {
  const unknown: ModelBundleInfo = {
    id, name: id, variant: null, family: null, formatVersion: null, license: null, image: null, origin, problem: null,
  };
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(readFileSync(join(dir, 'bundle.json'), 'utf8')) as Record<string, unknown>;
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'has no bundle.json' : 'has an unreadable bundle.json';
    return { ...unknown, problem: `${id} ${reason}` };
  }
  const formatVersion = Number.isInteger(json.format_version) ? (json.format_version as number) : null;
  const image = json.image as { width?: unknown; height?: unknown } | undefined;
  let problem: string | null = null;
  if (json.format !== 'atelier-bundle') problem = `${id}/bundle.json is not an Atelier bundle (format is not "atelier-bundle")`;
  else if (formatVersion === null) problem = `${id}/bundle.json has no format_version`;
  else if (formatVersion > SUPPORTED_FORMAT_VERSION) {
    problem = `${id} uses bundle format ${formatVersion}; this studio reads up to ${SUPPORTED_FORMAT_VERSION}`;
  }
  return {
    id,
    name: text(json.name) ?? id,
    variant: text(json.variant),
    family: text(json.family),
    formatVersion,
    license: text(json.license),
    image:
      image && Number.isInteger(image.width) && Number.isInteger(image.height)
        ? { width: image.width as number, height: image.height as number }
        : null,
    origin,
    problem,
  };
}

export interface FoundBundle extends ModelBundleInfo {
  dir: string;
}

/** Bundles with their folders (the folder stays in the core; the contract names bundles by id). */
export function findModelBundles(roots: readonly ModelRoot[]): FoundBundle[] {
  const seen = new Set<string>();
  const models: FoundBundle[] = [];
  for (const root of roots) {
    let names: string[];
    try {
      names = readdirSync(root.dir).sort();
    } catch {
      continue; // a root that does not exist yet holds no models
    }
    for (const name of names) {
      const dir = join(root.dir, name);
      if (seen.has(name) || name.startsWith('.') || !statSync(dir, { throwIfNoEntry: false })?.isDirectory()) continue;
      seen.add(name);
      models.push({ ...describeBundle(dir, name, root.origin), dir });
    }
  }
  return models;
}

export function listModelBundles(roots: readonly ModelRoot[]): ModelBundleInfo[] {
  return findModelBundles(roots).map(({ dir: _dir, ...info }) => info);
}

export function modelsHandlers(roots: readonly ModelRoot[]) {
  return { 'models.list': () => ({ models: listModelBundles(roots) }) };
}
