// Training settings, their defaults (what the wizard shows, explained in docs/lora.md) and checks.
import { createHash } from 'node:crypto';
import type { Schedule } from './optimizer';

export interface TrainSettings {
  /** LoRA rank (dim): capacity of the update. */
  rank: number;
  /** LoRA alpha: the update is scaled by alpha / rank. */
  alpha: number;
  /** Optimizer updates. */
  steps: number;
  /** Images per update (gradients of the graph's fixed batch are accumulated). */
  batch: number;
  learningRate: number;
  warmupSteps: number;
  schedule: Schedule;
  seed: number;
  /** Probability that an image's caption condition is dropped (zeros), so CFG keeps working. */
  condDropProb: number;
  weightDecay: number;
  /** Global gradient-norm clip (0 = off). */
  maxGradNorm: number;
  /** Trigger word put in front of every caption. */
  trigger: string;
  checkpointEvery: number;
  keepCheckpoints: number;
  /** Sample images at step 0 and every N updates (0 = only at the start and the end). */
  sampleEvery: number;
  samplePrompts: string[];
  sampleSeed: number;
  /** DiT steps of the sample images (default: the bundle's). */
  sampleSteps?: number;
  minImages: number;
  /** How captions become the DiT's condition (preprocess.ts): 'sampled' (default) or 'own-codes'. */
  condition: 'own-codes' | 'sampled';
}

export const DEFAULT_SETTINGS: TrainSettings = {
  rank: 8,
  alpha: 8,
  steps: 500,
  batch: 2,
  learningRate: 1e-3,
  warmupSteps: 20,
  schedule: 'cosine',
  seed: 0,
  condDropProb: 0.1,
  weightDecay: 0.01,
  maxGradNorm: 1,
  trigger: '',
  checkpointEvery: 50,
  keepCheckpoints: 3,
  sampleEvery: 100,
  samplePrompts: [],
  sampleSeed: 1,
  minImages: 3,
  // 'sampled': the DiT learns from the codes the AR really writes for the caption; measured on the nano
  // bundle it moves generations −63 % toward an unseen concept at weight 1, 'own-codes' only −15 % (docs/lora.md).
  condition: 'sampled',
};

export class SettingsError extends Error {}

export function resolveSettings(partial: Partial<TrainSettings>, limits: { maxRank: number; graphBatch: number }): TrainSettings {
  const s: TrainSettings = { ...DEFAULT_SETTINGS, ...Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) };
  const problems: string[] = [];
  const int = (name: keyof TrainSettings, min: number, max = Number.MAX_SAFE_INTEGER) => {
    const v = s[name] as number;
    if (!Number.isInteger(v) || v < min || v > max) problems.push(`${name} must be an integer in ${min}…${max === Number.MAX_SAFE_INTEGER ? '∞' : max} (got ${v})`);
  };
  int('rank', 1, limits.maxRank);
  int('steps', 1, 1_000_000);
  int('batch', 1, 256);
  int('warmupSteps', 0);
  int('seed', 0);
  int('checkpointEvery', 1);
  int('keepCheckpoints', 1);
  int('sampleEvery', 0);
  int('sampleSeed', 0);
  int('minImages', 1);
  if (s.sampleSteps !== undefined) int('sampleSteps', 1, 1000);
  if (!(s.alpha > 0 && Number.isFinite(s.alpha))) problems.push(`alpha must be > 0 (got ${s.alpha})`);
  if (!(s.learningRate > 0 && s.learningRate < 1)) problems.push(`learningRate must be in (0, 1) (got ${s.learningRate})`);
  if (!(s.condDropProb >= 0 && s.condDropProb < 1)) problems.push(`condDropProb must be in [0, 1) (got ${s.condDropProb})`);
  if (!(s.weightDecay >= 0 && s.weightDecay < 1)) problems.push(`weightDecay must be in [0, 1) (got ${s.weightDecay})`);
  if (!(s.maxGradNorm >= 0)) problems.push(`maxGradNorm must be ≥ 0 (got ${s.maxGradNorm})`);
  if (s.schedule !== 'cosine' && s.schedule !== 'constant') problems.push(`schedule must be cosine or constant (got ${String(s.schedule)})`);
  if (s.condition !== 'own-codes' && s.condition !== 'sampled') problems.push(`condition must be own-codes or sampled (got ${String(s.condition)})`);
  if (s.batch % limits.graphBatch) problems.push(`batch must be a multiple of the training graph's batch (${limits.graphBatch})`);
  if (problems.length) throw new SettingsError(`invalid training settings: ${problems.join('; ')}`);
  return s;
}

/** What a resume must agree on: everything that changes the numbers (not sampling or checkpoint cadence). */
export function settingsHash(s: TrainSettings, bundleHash: string): string {
  const { rank, alpha, steps, batch, learningRate, warmupSteps, schedule, seed, condDropProb, weightDecay, maxGradNorm, trigger, condition } = s;
  // `condition` joins the key only when it is not 'own-codes' (the only mode before `condition` existed), so
  // runs started then still resume — with condition 'own-codes', now that the default is 'sampled'.
  const key = { rank, alpha, steps, batch, learningRate, warmupSteps, schedule, seed, condDropProb, weightDecay, maxGradNorm, trigger, bundleHash, ...(condition !== 'own-codes' ? { condition } : {}) };
  return createHash('sha256').update(JSON.stringify(key)).digest('hex');
}
