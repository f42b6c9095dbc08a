// Opening a bundle: parse and check bundle.json, verify files, and hand out lazily created sessions
// and the tokenizer. Nothing heavy happens until a pipeline first needs a graph.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { BundleManifest } from './manifest';
import { BundleError, parseManifest } from './manifest';
import { checkGraphNames, checkGraphTypes } from './graph-io';
import type { GraphRole } from './manifest';
import { GRAPH_ROLES } from './manifest';
import { resolveInBundle, verifyBundleFiles } from './verify';
import { SessionPool } from './sessions';
import type { ExecutionProviderChoice } from '../runtime/providers';
import { PromptEncoder } from '../tokenizer';

export { BundleError, parseManifest, GRAPH_ROLES, SUPPORTED_FORMAT_VERSION } from './manifest';
export type { BundleManifest, GraphRole } from './manifest';
export { expectedGraphIo, checkGraphNames } from './graph-io';
export { verifyBundleFiles, sha256File } from './verify';
export { SessionPool } from './sessions';

export interface OpenBundleOptions {
  executionProvider?: ExecutionProviderChoice;
  threads?: number;
  /** 'full' (default) hashes every file; 'size' checks sizes only (faster cold start for trusted copies). */
  verify?: 'full' | 'size';
  /** Where the AR graph runs when the provider is an accelerator (see SessionPoolOptions.arProvider). */
  arProvider?: 'cpu' | 'same';
}

export class Bundle {
  private tokenizerPromise: Promise<PromptEncoder> | null = null;

  private constructor(
    readonly dir: string,
    readonly manifest: BundleManifest,
    /** sha256 of bundle.json, which itself pins every file's sha256: the model's identity. */
    readonly hash: string,
    readonly sessions: SessionPool,
  ) {}

  static async open(dir: string, opts: OpenBundleOptions = {}): Promise<Bundle> {
    const manifestPath = path.join(dir, 'bundle.json');
    let text: string;
    try {
      text = await readFile(manifestPath, 'utf8');
    } catch {
      throw new BundleError(`no bundle.json in ${dir}: this folder is not an Atelier model bundle`);
    }
    const manifest = parseManifest(text, manifestPath);
    for (const role of GRAPH_ROLES) {
      const g = manifest.graphs[role]!;
      checkGraphNames(role, manifest, { inputs: g.inputs.map((t) => t.name), outputs: g.outputs.map((t) => t.name) }, 'bundle.json');
      checkGraphTypes(role, [...g.inputs, ...g.outputs].map((t) => ({ name: t.name, type: t.dtype })), 'bundle.json');
    }
    await verifyBundleFiles(dir, manifest, { hashes: opts.verify !== 'size' });
    const hash = createHash('sha256').update(text).digest('hex');
    const sessions = new SessionPool(dir, manifest, { executionProvider: opts.executionProvider ?? 'auto', threads: opts.threads, arProvider: opts.arProvider });
    return new Bundle(dir, manifest, hash, sessions);
  }

  /** The A1111-style short hash (first 10 hex digits). */
  get shortHash(): string {
    return this.hash.slice(0, 10);
  }

  tokenizer(): Promise<PromptEncoder> {
    if (!this.tokenizerPromise) {
      this.tokenizerPromise = PromptEncoder.load(resolveInBundle(this.dir, this.manifest.tokenizer.file), this.manifest);
      this.tokenizerPromise.catch(() => (this.tokenizerPromise = null));
    }
    return this.tokenizerPromise;
  }

  /** Creates the sessions for `roles` now (e.g. to measure or hide cold start). */
  async warm(roles: readonly GraphRole[] = GRAPH_ROLES): Promise<void> {
    for (const r of roles) await this.sessions.session(r);
  }

  dispose(): Promise<void> {
    return this.sessions.dispose();
  }
}
