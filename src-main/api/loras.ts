// The LoRAs an image job may use, and how a renderer's choice becomes a file (issue 6). Two kinds
// exist: a finished training run known to the store (its `lora-runs/<id>/lora.safetensors`) and a
// .safetensors file someone put under `<dataDir>/loras/`. Nothing else on disk can be named: a path
// is relative to the LoRA folder (the contract refuses absolute paths and `..`), and its real path
// (symlinks followed) must still be inside that folder.
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import type { AvailableLora, LoraChoice, UsedLora } from '../../src-shared/contract';
import { ApiError, LORA_FOLDER, loraKey } from '../../src-shared/contract';
import type { Store } from '../store/types';

/** The final file of a LoRA run (the trainer writes it there when the run is done). */
export function loraRunFile(dataDir: string, runId: string): string {
  return path.join(dataDir, 'lora-runs', runId, 'lora.safetensors');
}

export function loraFolder(dataDir: string): string {
  return path.join(dataDir, LORA_FOLDER);
}

/** A LoRA the worker will read: the file, plus what history records about it. */
export interface ResolvedLora {
  file: string;
  weight: number;
  used: UsedLora;
}

function runName(store: Store, runId: string): string {
  const run = store.loraRuns.get(runId);
  const project = run ? store.projects.get(run.projectId) : null;
  return project?.name ?? `run ${runId.slice(0, 8)}`;
}

const MAX_DEPTH = 4;
const MAX_FILES = 500;

/** .safetensors files under the LoRA folder (a few levels deep), as paths relative to it with '/'. */
function loraFiles(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string, rel: string[], depth: number) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // no folder yet, or unreadable: no files from it
    }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (found.length >= MAX_FILES || e.name.startsWith('.')) continue;
      if (e.isDirectory() && depth < MAX_DEPTH) walk(path.join(dir, e.name), [...rel, e.name], depth + 1);
      else if ((e.isFile() || e.isSymbolicLink()) && /\.safetensors$/i.test(e.name)) found.push([...rel, e.name].join('/'));
    }
  };
  walk(root, [], 0);
  return found;
}

/** Finished training runs (newest first), then the LoRA folder's files (by path). */
export function listAvailableLoras(store: Store): AvailableLora[] {
  const out: AvailableLora[] = [];
  for (const run of store.loraRuns.list()) {
    if (run.status !== 'done') continue;
    const file = loraRunFile(store.dataDir, run.id);
    let st;
    try {
      st = statSync(file);
    } catch {
      continue; // deleted by hand
    }
    out.push({ key: loraKey({ loraId: run.id }), name: runName(store, run.id), source: 'trained', loraId: run.id, path: null, bytes: st.size, modifiedAt: Math.trunc(st.mtimeMs) });
  }
  const root = loraFolder(store.dataDir);
  for (const rel of loraFiles(root)) {
    const resolved = resolveLoraFile(root, rel);
    if (!resolved) continue; // a symlink leading out of the folder is not offered
    const st = statSync(resolved);
    out.push({ key: loraKey({ path: rel }), name: rel.replace(/\.safetensors$/i, ''), source: 'file', loraId: null, path: rel, bytes: st.size, modifiedAt: Math.trunc(st.mtimeMs) });
  }
  return out;
}

/**
 * An installed LoRA by the name a batch row or a prompt list gives: a finished run by its project's
 * name, or a LoRA-folder file by its path with or without `.safetensors` (case-insensitive; trained runs
 * first, newest first, as the studio lists them). Null when nothing has that name.
 */
export function findInstalledLora(store: Store, name: string): { file: string; name: string } | null {
  const want = name.trim().replace(/\.safetensors$/i, '').toLowerCase();
  if (!want) return null;
  for (const l of listAvailableLoras(store)) {
    if (l.name.toLowerCase() !== want) continue;
    const file = l.loraId ? loraRunFile(store.dataDir, l.loraId) : resolveLoraFile(loraFolder(store.dataDir), l.path!);
    if (file) return { file, name: l.name };
  }
  return null;
}

/** The real path of `rel` if it is a file inside `root` (after following links); null otherwise. */
function resolveLoraFile(root: string, rel: string): string | null {
  let realRoot: string;
  let real: string;
  try {
    realRoot = realpathSync(root);
    real = realpathSync(path.join(root, ...rel.split('/')));
  } catch {
    return null;
  }
  if (!real.startsWith(realRoot + path.sep)) return null;
  try {
    return statSync(real).isFile() ? real : null;
  } catch {
    return null;
  }
}

/** The file a choice names; NOT_FOUND for an unknown run or file, FORBIDDEN for a path that leaves the folder. */
export function resolveLoraChoice(store: Store, choice: LoraChoice): ResolvedLora {
  const key = loraKey(choice);
  if ('loraId' in choice) {
    const run = store.loraRuns.get(choice.loraId);
    if (!run) throw new ApiError('NOT_FOUND', `no LoRA run ${choice.loraId}`);
    const file = loraRunFile(store.dataDir, run.id);
    if (run.status !== 'done' || !existsSync(file)) throw new ApiError('CONFLICT', `the LoRA run ${runName(store, run.id)} has not finished: there is no LoRA file yet`);
    return { file, weight: choice.weight, used: { key, name: runName(store, run.id), weight: choice.weight } };
  }
  const root = loraFolder(store.dataDir);
  // The contract already refused absolute paths and `..`; this catches symlinks that lead out.
  const segments = choice.path.split('/');
  if (path.isAbsolute(choice.path) || segments.some((s) => s === '..' || s === '.' || s === '')) {
    throw new ApiError('FORBIDDEN', `the LoRA path ${choice.path} leaves the LoRA folder`);
  }
  if (!existsSync(path.join(root, ...segments))) throw new ApiError('NOT_FOUND', `no LoRA file ${choice.path} in ${root}`);
  const file = resolveLoraFile(root, choice.path);
  if (!file) throw new ApiError('FORBIDDEN', `the LoRA file ${choice.path} is not a file inside ${root}`);
  return { file, weight: choice.weight, used: { key, name: choice.path.replace(/\.safetensors$/i, ''), weight: choice.weight } };
}
