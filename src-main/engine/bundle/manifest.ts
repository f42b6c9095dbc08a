// bundle.json (docs/bundle-spec.md, format version 1) as a zod schema. Parsing reports the first
// problems by key path so a broken bundle says what is wrong instead of failing later in a graph.
import { z } from 'zod';

export const SUPPORTED_FORMAT_VERSION = 1;

const tensorSpec = z.object({
  name: z.string().min(1),
  dtype: z.string().min(1),
  shape: z.array(z.union([z.number().int(), z.string()])),
});

const graphSpec = z.object({
  file: z.string().min(1),
  inputs: z.array(tensorSpec),
  outputs: z.array(tensorSpec),
});

const int = z.number().int();
const positiveInt = int.positive();

export const GRAPH_ROLES = [
  'ar',
  'connector',
  'dit',
  'vae_encoder',
  'vae_decoder',
  'image_tokenizer_encoder',
  'image_tokenizer_decoder',
] as const;
/** Optional roles: present only in bundles that carry LoRA graphs (docs/bundle-spec.md, issue 7). */
export const LORA_GRAPH_ROLE = 'dit_lora';
/**
 * Optional roles, all three or none: a second generator that instruction edits run on (docs/bundle-spec.md,
 * "Edit generator"). Same architecture, tokenizer and autoencoders as the bundle's own; only the weights differ.
 */
export const EDIT_GENERATOR_ROLES = { ar: 'edit_ar', connector: 'edit_connector', dit: 'edit_dit' } as const;
export type GeneratorRole = keyof typeof EDIT_GENERATOR_ROLES;
export type EditGeneratorRole = (typeof EDIT_GENERATOR_ROLES)[GeneratorRole];
export type GraphRole = (typeof GRAPH_ROLES)[number] | typeof LORA_GRAPH_ROLE | EditGeneratorRole;

/** True when the bundle carries an edit generator (checkConsistency refuses a partial one). */
export function hasEditGenerator(m: BundleManifest): boolean {
  return Object.values(EDIT_GENERATOR_ROLES).every((role) => Boolean(m.graphs[role]));
}
/** With LoRA graphs, the DiT weights of dit, dit_lora and dit_train_lora: ONNX external data beside them. */
export const LORA_WEIGHTS_FILE = 'dit_lora.weights';

const loraSpec = z.object({
  network: z.literal('lora'),
  targets: z.array(z.object({ index: int.nonnegative(), key: z.string().min(1), module: z.string().min(1), in: positiveInt, out: positiveInt })),
  train: z.object({ batch: positiveInt, max_rank: positiveInt }),
});

export const manifestSchema = z.object({
  format: z.literal('atelier-bundle'),
  format_version: int,
  name: z.string().min(1),
  family: z.literal('atelier-ar-dit'),
  variant: z.string(),
  license: z.string(),
  provenance: z.record(z.string(), z.unknown()),
  config: z.record(z.string(), z.unknown()),
  image: z.object({ width: positiveInt, height: positiveInt, channels: positiveInt }),
  tokenizer: z.object({
    file: z.string().min(1),
    max_prompt_tokens: positiveInt,
    templates: z.object({ generate: z.string(), edit: z.string() }),
    /** Bare capital words of a prompt are sign text: quote them as the training captions did (tokenizer/sign-words.ts). */
    quote_sign_words: z.boolean().optional(),
  }),
  special_tokens: z.object({
    pad: int,
    bos: int,
    eos: int,
    img_start: int,
    img_end: int,
    ref_start: int,
    ref_end: int,
  }),
  vocab: z.object({
    text_size: positiveInt,
    image_code_offset: int.nonnegative(),
    image_codebook_size: positiveInt,
    total: positiveInt,
  }),
  image_tokens: z.object({ grid: z.tuple([positiveInt, positiveInt]), count: positiveInt }),
  ar: z.object({
    layers: positiveInt,
    hidden_size: positiveInt,
    heads: positiveInt,
    kv_heads: positiveInt,
    head_dim: positiveInt,
    max_positions: positiveInt,
  }),
  connector: z.object({ in_dim: positiveInt, out_dim: positiveInt }),
  condition: z.object({ positions: z.literal('img_start+codes'), length: positiveInt }),
  sampling: z.object({
    temperature: z.number().nonnegative(),
    top_k: int.nonnegative(),
    top_p: z.number().gt(0).lte(1),
    /** AR classifier-free guidance against the empty prompt; absent in older bundles (= 1, off). */
    cfg_scale: z.number().finite().optional(),
    /** The same for the edit template (its twin keeps the reference codes); absent = 1. */
    edit_cfg_scale: z.number().finite().optional(),
    /** Edits keep the reference in the cells whose code the AR kept; absent = false. */
    edit_keep_unchanged: z.boolean().optional(),
    /** The AR's temperature for the edit template; absent = `temperature`. */
    edit_temperature: z.number().nonnegative().optional(),
  }),
  scheduler: z.object({
    type: z.literal('flow_match_euler'),
    steps: positiveInt,
    shift: z.number().positive(),
    cfg_scale: z.number(),
    timestep_scale: z.number(),
  }),
  latent: z.object({
    channels: positiveInt,
    height: positiveInt,
    width: positiveInt,
    scaling_factor: z.number(),
    shift_factor: z.number(),
    rgb_preview: z.object({
      weights: z.array(z.array(z.number()).length(3)),
      bias: z.array(z.number()).length(3),
    }),
  }),
  graphs: z.record(z.string(), graphSpec),
  lora: loraSpec.optional(),
  files: z.array(z.object({ path: z.string().min(1), sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: int.nonnegative() })),
});

export type BundleManifest = z.infer<typeof manifestSchema>;
export type GraphSpec = z.infer<typeof graphSpec>;
export type TensorSpec = z.infer<typeof tensorSpec>;

export class BundleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BundleError';
  }
}

/** Parses bundle.json text; throws BundleError naming the offending keys. */
export function parseManifest(text: string, source = 'bundle.json'): BundleManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new BundleError(`${source} is not valid JSON: ${(e as Error).message}`);
  }
  if (raw && typeof raw === 'object') {
    const version = (raw as { format_version?: unknown }).format_version;
    if (typeof version === 'number' && version > SUPPORTED_FORMAT_VERSION) {
      throw new BundleError(
        `${source} has format_version ${version}; this engine reads version ${SUPPORTED_FORMAT_VERSION} only — update Atelier to load this model`,
      );
    }
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    throw new BundleError(`${source} does not match bundle format v1: ${problems}`);
  }
  const m = parsed.data;
  if (m.format_version < 1) throw new BundleError(`${source} has format_version ${m.format_version}; expected 1`);
  checkConsistency(m, source);
  return m;
}

function checkConsistency(m: BundleManifest, source: string): void {
  const problems: string[] = [];
  for (const role of GRAPH_ROLES) if (!m.graphs[role]) problems.push(`graphs.${role} is missing`);
  const editRoles = Object.values(EDIT_GENERATOR_ROLES);
  const present = editRoles.filter((role) => m.graphs[role]);
  if (present.length && present.length < editRoles.length) {
    problems.push(`an edit generator needs ${editRoles.join(', ')}; graphs has only ${present.join(', ')}`);
  }
  const [gh, gw] = m.image_tokens.grid;
  if (gh * gw !== m.image_tokens.count) problems.push(`image_tokens.grid ${gh}×${gw} ≠ count ${m.image_tokens.count}`);
  if (m.condition.length !== m.image_tokens.count + 1) {
    problems.push(`condition.length ${m.condition.length} ≠ image_tokens.count + 1`);
  }
  if (m.vocab.image_code_offset + m.vocab.image_codebook_size > m.vocab.total) {
    problems.push('image codes do not fit in vocab.total');
  }
  if (m.latent.rgb_preview.weights.length !== m.latent.channels) {
    problems.push(`latent.rgb_preview.weights has ${m.latent.rgb_preview.weights.length} rows for ${m.latent.channels} channels`);
  }
  if (!m.tokenizer.templates.generate.includes('{prompt}')) problems.push('tokenizer.templates.generate lacks {prompt}');
  if (!m.tokenizer.templates.edit.includes('{prompt}') || !m.tokenizer.templates.edit.includes('{ref}')) {
    problems.push('tokenizer.templates.edit lacks {ref} or {prompt}');
  }
  if (problems.length) throw new BundleError(`${source} is inconsistent: ${problems.join('; ')}`);
}
