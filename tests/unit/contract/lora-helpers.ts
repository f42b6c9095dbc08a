// A small valid LoRA for a bundle, written with the trainer's own file format (src-main/trainer/
// lora-file.ts): random down/up matrices for every target of the bundle's `lora` section, so
// applying it at weight 1 visibly moves the DiT. Deterministic per seed.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { LoraTarget } from '../../../src-main/engine/diffusion/lora';
import { encodeLoraFile } from '../../../src-main/trainer/lora-file';

function gaussian(seed: number): () => number {
  let s = seed >>> 0;
  const uniform = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(uniform() + 1e-12)) * Math.cos(2 * Math.PI * uniform());
}

export function writeTestLora(bundleDir: string, file: string, { seed = 1, rank = 2, scale = 0.5 } = {}): void {
  const manifest = JSON.parse(readFileSync(join(bundleDir, 'bundle.json'), 'utf8')) as { lora?: { targets: LoraTarget[] } };
  if (!manifest.lora) throw new Error(`${bundleDir} has no LoRA targets`);
  const targets = manifest.lora.targets;
  const next = gaussian(seed);
  const fill = (n: number) => Float32Array.from({ length: n }, () => next() * scale);
  const down: Float32Array[] = [];
  const up: Float32Array[] = [];
  for (const t of targets) {
    down[t.index] = fill(rank * t.in);
    up[t.index] = fill(t.out * rank);
  }
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, encodeLoraFile(targets, { weights: { rank, alpha: rank, down, up }, metadata: { ss_network_module: 'networks.lora' } }));
}
