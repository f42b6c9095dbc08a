// One onnxruntime session per graph role, created on first use and reused for every later run.
// The first session settles the execution provider (for 'auto' by trying candidates); the others
// are created on that provider so a bundle never runs half on one device, half on another.
import type * as ort from 'onnxruntime-node';
import type { BundleManifest, GraphRole, GeneratorRole } from './manifest';
import { EDIT_GENERATOR_ROLES } from './manifest';
import { checkGraphNames, checkGraphTypes } from './graph-io';
import { resolveInBundle } from './verify';
import type { ConcreteProvider, ExecutionProviderChoice } from '../runtime/providers';
import { createSessionWithProvider } from '../runtime/providers';
import type { TensorLedger } from '../runtime/ledger';
import { assertFinite } from '../runtime/checks';

export interface SessionPoolOptions {
  executionProvider: ExecutionProviderChoice;
  threads?: number;
  /**
   * Where the AR graph runs when the main provider is an accelerator: 'cpu' (default) or 'same'.
   * AR decoding is one tiny step per token, and every step's logits and KV tensors come back to the
   * host, so on a GPU provider it is bound by launches and copies. Measured 2026-11-26 on an H100
   * machine with webgpu (random-weight nano bundle): AR 40 tokens/s on the GPU vs ~500 on the CPU;
   * text-to-image 1861 ms with AR on the GPU, 304 ms with AR on the CPU.
   */
  arProvider?: 'cpu' | 'same';
}

/** Up to this hidden size an AR decode step is a chain of operators too small to split across threads. */
export const SMALL_AR_HIDDEN = 256;

/**
 * Threads for the AR graph on the CPU. A decode step of a small AR runs dozens of tiny operators; with the
 * worker threads sleeping between operators (providers.ts), waking them costs more than splitting saves.
 * Measured 2026-11-27 on the 2-core box, nano AR (hidden 192), guided decode (2 rows): 1.21 ms a step
 * with one thread against 1.56 ms with two; in the bench the AR loop went 118 → 95 ms. Larger ARs keep `threads`.
 */
export function arThreadCount(hiddenSize: number, threads: number | undefined): number | undefined {
  return hiddenSize <= SMALL_AR_HIDDEN ? 1 : threads;
}

/** What the pipeline stages need of a session pool: run a graph by role. */
export interface GraphRunner {
  run(role: GraphRole, feeds: Record<string, ort.Tensor>, ledger: TensorLedger, opts?: { checkFinite?: boolean }): Promise<Record<string, ort.Tensor>>;
}

/**
 * The pool as an edit sees it in a bundle with an edit generator: 'ar', 'connector' and 'dit' run the edit
 * generator's graphs, every other role (the shared encoders and decoders) the bundle's own. The sessions are
 * the pool's, so each graph still loads once.
 */
export function editGeneratorView(pool: GraphRunner): GraphRunner {
  const swap = (role: GraphRole): GraphRole => (role in EDIT_GENERATOR_ROLES ? EDIT_GENERATOR_ROLES[role as GeneratorRole] : role);
  return { run: (role, feeds, ledger, opts) => pool.run(swap(role), feeds, ledger, opts) };
}

export class SessionPool implements GraphRunner {
  private readonly sessions = new Map<GraphRole, Promise<ort.InferenceSession>>();
  private provider: ConcreteProvider | null = null;
  private reasons: string[] = [];
  private disposed = false;
  private providerSettled: Promise<void> | null = null;

  constructor(
    private readonly dir: string,
    private readonly manifest: BundleManifest,
    private readonly opts: SessionPoolOptions,
  ) {}

  /** The provider in use once a session exists, with why others were skipped. */
  get providerInfo(): { provider: ConcreteProvider | null; arProvider: ConcreteProvider | null; fallbackReasons: string[] } {
    return { provider: this.provider, arProvider: this.arOnCpu() ? 'cpu' : this.provider, fallbackReasons: [...this.reasons] };
  }

  /** True when the AR graph is kept on the CPU while the other graphs use an accelerator. */
  private arOnCpu(): boolean {
    return (this.opts.arProvider ?? 'cpu') === 'cpu' && this.opts.executionProvider !== 'cpu';
  }

  get loadedRoles(): GraphRole[] {
    return [...this.sessions.keys()];
  }

  session(role: GraphRole): Promise<ort.InferenceSession> {
    if (this.disposed) return Promise.reject(new Error('the model was unloaded'));
    let s = this.sessions.get(role);
    if (!s) {
      s = this.create(role);
      this.sessions.set(role, s);
      // A failed creation is not cached: the next call tries again (e.g. after freeing memory).
      s.catch(() => this.sessions.delete(role));
    }
    return s;
  }

  private async create(role: GraphRole): Promise<ort.InferenceSession> {
    const spec = this.manifest.graphs[role];
    if (!spec) throw new Error(`bundle has no graph '${role}'`);
    const file = resolveInBundle(this.dir, spec.file);
    const isAr = role === 'ar' || role === EDIT_GENERATOR_ROLES.ar;
    const threads = isAr ? arThreadCount(this.manifest.ar.hidden_size, this.opts.threads) : this.opts.threads;
    if (isAr && this.arOnCpu()) {
      let cpu;
      try {
        cpu = await createSessionWithProvider(file, 'cpu', { threads });
      } catch (e) {
        throw new Error(`could not load graph '${role}' (${spec.file}): ${(e as Error).message}`);
      }
      return this.finishCreate(role, spec.file, cpu.session);
    }
    // Serialise on the first creation so the provider is chosen exactly once.
    if (this.providerSettled) await this.providerSettled;
    const choice: ExecutionProviderChoice = this.provider ?? this.opts.executionProvider;
    const creating = createSessionWithProvider(file, choice, { threads });
    if (!this.provider) this.providerSettled = creating.then(
      () => undefined,
      () => undefined,
    );
    let created;
    try {
      created = await creating;
    } catch (e) {
      throw new Error(`could not load graph '${role}' (${spec.file}): ${(e as Error).message}`);
    }
    if (!this.provider) {
      this.provider = created.provider;
      this.reasons = created.fallbackReasons;
    }
    return this.finishCreate(role, spec.file, created.session);
  }

  /** Checks a new session's names and types against the spec; releases it if they differ. */
  private async finishCreate(role: GraphRole, file: string, session: ort.InferenceSession): Promise<ort.InferenceSession> {
    try {
      checkGraphNames(role, this.manifest, { inputs: [...session.inputNames], outputs: [...session.outputNames] }, file);
      const typed = [...session.inputMetadata, ...session.outputMetadata].flatMap((v) => ('type' in v ? [{ name: v.name, type: String(v.type) }] : []));
      checkGraphTypes(role, typed, file);
    } catch (e) {
      await session.release();
      throw e;
    }
    if (this.disposed) {
      await session.release();
      throw new Error('the model was unloaded');
    }
    return session;
  }

  /**
   * Runs a graph; every output is registered in `ledger` (the caller disposes them) and checked for
   * NaN/Inf. Input tensors stay owned by the caller.
   */
  async run(
    role: GraphRole,
    feeds: Record<string, ort.Tensor>,
    ledger: TensorLedger,
    opts: { checkFinite?: boolean } = {},
  ): Promise<Record<string, ort.Tensor>> {
    const session = await this.session(role);
    let out: ort.InferenceSession.OnnxValueMapType;
    try {
      out = await session.run(feeds);
    } catch (e) {
      throw new Error(`graph '${role}' failed to run: ${(e as Error).message.split('\n')[0]}`);
    }
    const result: Record<string, ort.Tensor> = {};
    for (const [name, value] of Object.entries(out)) result[name] = ledger.track(value as ort.Tensor);
    if (opts.checkFinite !== false) {
      try {
        for (const [name, t] of Object.entries(result)) assertFinite(role, name, t);
      } catch (e) {
        ledger.disposeAll(Object.values(result));
        throw e;
      }
    }
    return result;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    const pending = [...this.sessions.values()];
    this.sessions.clear();
    for (const p of pending) {
      try {
        await (await p).release();
      } catch {
        // a session that failed to create has nothing to release
      }
    }
  }
}
