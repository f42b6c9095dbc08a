// Execution providers. onnxruntime does not fall back by itself when a provider cannot start, so
// 'auto' tries the platform's accelerators in order and settles on the first that creates a session;
// the reasons for skipping the others are kept for the UI/CLI to show.
import { existsSync } from 'node:fs';
import os from 'node:os';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as ort from 'onnxruntime-node';

export const EXECUTION_PROVIDERS = ['auto', 'cpu', 'webgpu', 'cuda', 'dml', 'coreml'] as const;
export type ExecutionProviderChoice = (typeof EXECUTION_PROVIDERS)[number];
export type ConcreteProvider = Exclude<ExecutionProviderChoice, 'auto'>;

export function isExecutionProvider(v: string): v is ExecutionProviderChoice {
  return (EXECUTION_PROVIDERS as readonly string[]).includes(v);
}

/** Accelerators worth trying on this platform, best first; cpu is always the last resort. */
export function autoCandidates(platform: NodeJS.Platform = process.platform): ConcreteProvider[] {
  const byPlatform: Record<string, ConcreteProvider[]> = {
    win32: ['dml', 'cuda', 'webgpu'],
    darwin: ['coreml', 'webgpu'],
    linux: ['cuda', 'webgpu'],
  };
  const offered = new Set(ort.listSupportedBackends().map((b) => b.name));
  return [...(byPlatform[platform] ?? []).filter((p) => offered.has(p)), 'cpu'];
}

/**
 * CUDA (and TensorRT) are "supported but not bundled" by onnxruntime-node: they need the provider
 * library next to the binding. Checking for it first avoids a noisy failed load on machines without it.
 */
function providerLibraryMissing(provider: ConcreteProvider): string | null {
  if (provider === 'webgpu') return vulkanMissing();
  if (provider !== 'cuda') return null;
  try {
    const pkg = createRequire(import.meta.url).resolve('onnxruntime-node/package.json');
    const dir = path.join(path.dirname(pkg), 'bin', 'napi-v6', process.platform, process.arch);
    const lib = process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
    return existsSync(path.join(dir, lib)) ? null : `the CUDA provider library (${lib}) is not installed`;
  } catch {
    return null;
  }
}

/** On Linux, WebGPU runs on Vulkan: without the Vulkan loader it cannot start (and Dawn prints warnings). */
function vulkanMissing(): string | null {
  if (process.platform !== 'linux') return null;
  const dirs = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/usr/local/lib', '/lib/x86_64-linux-gnu', '/lib64'];
  const extra = (process.env['LD_LIBRARY_PATH'] ?? '').split(':').filter(Boolean);
  return [...extra, ...dirs].some((d) => existsSync(path.join(d, 'libvulkan.so.1'))) ? null : 'no Vulkan loader (libvulkan.so.1) on this system';
}

export interface SessionConfig {
  threads?: number;
}

/**
 * Default intra-op threads: all cores up to 4. The shipped models are small, and more threads mostly
 * add synchronisation: on a 16-core machine the nano bundle ran text-to-image in 280 ms with 4 threads
 * and 412 ms with 16 (2026-11-26, random weights).
 */
export function defaultThreads(): number {
  return Math.max(1, Math.min(4, os.availableParallelism()));
}

export function sessionOptions(provider: ConcreteProvider, cfg: SessionConfig, quiet = false): ort.InferenceSession.SessionOptions {
  const opts: ort.InferenceSession.SessionOptions = {
    executionProviders: [provider],
    // While probing accelerators under 'auto', a provider that cannot start is expected: keep its
    // native error log quiet (the reason is reported through fallbackReasons instead).
    logSeverityLevel: quiet ? 4 : 3,
    graphOptimizationLevel: 'all',
    // One graph runs at a time; parallelism lives inside operators.
    executionMode: 'sequential',
    interOpNumThreads: 1,
    // Worker threads sleep instead of spinning between operators. Atelier shares the machine with its
    // own UI and the user's other programs; spinning threads then steal the cores the work needs. On the
    // shared 2-core dev box (load ≈ 3) the nano bundle took 707 ms per image spinning, 314 ms not.
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
  if (cfg.threads !== undefined && (!Number.isInteger(cfg.threads) || cfg.threads < 1)) {
    throw new RangeError(`threads must be an integer ≥ 1 (got ${cfg.threads})`);
  }
  opts.intraOpNumThreads = cfg.threads ?? defaultThreads();
  return opts;
}

export interface ProviderResolution {
  provider: ConcreteProvider;
  /** Why the providers tried before `provider` were skipped (empty when the first one worked). */
  fallbackReasons: string[];
}

/**
 * Creates a session on the requested provider; for 'auto', on the first candidate that starts.
 * An explicit provider that fails is an error (the user asked for it), not a silent fallback.
 */
export async function createSessionWithProvider(
  file: string,
  choice: ExecutionProviderChoice,
  cfg: SessionConfig,
): Promise<{ session: ort.InferenceSession } & ProviderResolution> {
  sessionOptions('cpu', cfg); // validates the shared settings (threads) before any provider is tried
  const candidates = choice === 'auto' ? autoCandidates() : [choice];
  const reasons: string[] = [];
  for (const provider of candidates) {
    const missing = choice === 'auto' ? providerLibraryMissing(provider) : null;
    if (missing) {
      reasons.push(`${provider}: ${missing}`);
      continue;
    }
    try {
      const session = await ort.InferenceSession.create(file, sessionOptions(provider, cfg, choice === 'auto' && provider !== 'cpu'));
      return { session, provider, fallbackReasons: reasons };
    } catch (e) {
      const msg = firstLine((e as Error).message);
      if (choice !== 'auto') throw new Error(`execution provider '${provider}' could not start: ${msg}`);
      reasons.push(`${provider}: ${msg}`);
    }
  }
  throw new Error(`no execution provider could start: ${reasons.join('; ')}`);
}

function firstLine(s: string): string {
  const line = s.split('\n').find((l) => l.trim()) ?? s;
  return line.length > 200 ? line.slice(0, 200) + '…' : line;
}
