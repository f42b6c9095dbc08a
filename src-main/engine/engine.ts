// The engine: one loaded bundle, its sessions and tokenizer, and the generation modes. Runs are
// serialised (one at a time) because they share sessions and threads; a second call waits.
import { Bundle } from './bundle';
import type { OpenBundleOptions } from './bundle';
import { TensorLedger } from './runtime/ledger';
import * as modes from './pipelines/modes';
import type { EngineContext } from './pipelines/run';
import type { EditOptions, GenerateOptions, GenerationResult, InpaintOptions, OutpaintOptions, VariationOptions } from './pipelines/types';

export type LoadOptions = OpenBundleOptions;

export class Engine {
  private readonly ledger = new TensorLedger();
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;

  constructor(readonly bundle: Bundle) {}

  get manifest() {
    return this.bundle.manifest;
  }

  /** Tensors alive right now (0 between runs, also after a cancelled or failed run). */
  get liveTensors(): number {
    return this.ledger.liveCount;
  }

  get executionProvider(): { provider: string | null; arProvider: string | null; fallbackReasons: string[] } {
    return this.bundle.sessions.providerInfo;
  }

  private run<T>(fn: (ctx: EngineContext) => Promise<T>): Promise<T> {
    if (this.disposed) return Promise.reject(new Error('the engine was disposed'));
    const next = this.queue.then(() => fn({ bundle: this.bundle, ledger: this.ledger }));
    this.queue = next.catch(() => undefined);
    return next;
  }

  textToImage(opts: GenerateOptions): Promise<GenerationResult> {
    return this.run((ctx) => modes.textToImage(ctx, opts));
  }

  edit(opts: EditOptions): Promise<GenerationResult> {
    return this.run((ctx) => modes.edit(ctx, opts));
  }

  inpaint(opts: InpaintOptions): Promise<GenerationResult> {
    return this.run((ctx) => modes.inpaint(ctx, opts));
  }

  outpaint(opts: OutpaintOptions): Promise<GenerationResult> {
    return this.run((ctx) => modes.outpaint(ctx, opts));
  }

  variations(opts: VariationOptions): Promise<GenerationResult> {
    return this.run((ctx) => modes.variations(ctx, opts));
  }

  /** Creates every session now (cold start up front instead of inside the first run). */
  warm(): Promise<void> {
    return this.bundle.warm();
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.queue;
    await this.bundle.dispose();
  }
}

export async function loadBundle(dir: string, opts: LoadOptions = {}): Promise<Engine> {
  return new Engine(await Bundle.open(dir, opts));
}
