// The input/output names each graph role must have (docs/bundle-spec.md, "Graphs"). The bundle's own
// listing and the ONNX session's actual names are both checked against these, so a graph exported
// with a renamed or missing tensor is refused at load time rather than failing mid-generation.
import type { BundleManifest, GraphRole } from './manifest';
import { BundleError } from './manifest';

export interface GraphIo {
  inputs: string[];
  outputs: string[];
}

export function expectedGraphIo(role: GraphRole, m: BundleManifest): GraphIo {
  const layers = Array.from({ length: m.ar.layers }, (_, i) => i);
  switch (role) {
    // an edit generator's graphs have the names of the graphs they stand in for
    case 'edit_ar':
      return expectedGraphIo('ar', m);
    case 'edit_connector':
      return expectedGraphIo('connector', m);
    case 'edit_dit':
      return expectedGraphIo('dit', m);
    case 'ar':
      return {
        inputs: [
          'input_ids',
          'attention_mask',
          'position_ids',
          ...layers.flatMap((i) => [`past_key_${i}`, `past_value_${i}`]),
        ],
        outputs: ['logits', 'hidden', ...layers.flatMap((i) => [`present_key_${i}`, `present_value_${i}`])],
      };
    case 'connector':
      return { inputs: ['hidden'], outputs: ['cond'] };
    case 'dit':
      return { inputs: ['latents', 'timestep', 'cond', 'ref_latents'], outputs: ['velocity'] };
    case 'dit_lora':
      return {
        inputs: ['latents', 'timestep', 'cond', 'ref_latents', ...(m.lora?.targets ?? []).flatMap((t) => [`lora_down_${t.index}`, `lora_up_${t.index}`])],
        outputs: ['velocity'],
      };
    case 'vae_encoder':
      return { inputs: ['image'], outputs: ['latents'] };
    case 'vae_decoder':
      return { inputs: ['latents'], outputs: ['image'] };
    case 'image_tokenizer_encoder':
      return { inputs: ['image'], outputs: ['codes'] };
    case 'image_tokenizer_decoder':
      return { inputs: ['codes'], outputs: ['image'] };
  }
}

const INT64_NAMES = new Set(['input_ids', 'attention_mask', 'position_ids', 'codes']);

/** The element type the spec gives a tensor: token ids, masks, positions and codes are int64, the rest float32. */
export function expectedDtype(name: string): 'int64' | 'float32' {
  return INT64_NAMES.has(name) ? 'int64' : 'float32';
}

/** Throws BundleError when a tensor's element type differs from the spec's. */
export function checkGraphTypes(role: GraphRole, types: Iterable<{ name: string; type: string }>, where: string): void {
  const wrong = [...types].filter((t) => t.type !== expectedDtype(t.name)).map((t) => `${t.name} is ${t.type}, expected ${expectedDtype(t.name)}`);
  if (wrong.length) throw new BundleError(`graph '${role}' (${where}) has tensors of the wrong type: ${wrong.join('; ')}`);
}

/** Names in `expected` but not in `actual`, and the reverse. */
function diffNames(expected: readonly string[], actual: readonly string[]): { missing: string[]; extra: string[] } {
  const a = new Set(actual);
  const e = new Set(expected);
  return { missing: expected.filter((n) => !a.has(n)), extra: actual.filter((n) => !e.has(n)) };
}

/** Throws BundleError when `actual` names differ from the spec's for `role`; `where` says whose names. */
export function checkGraphNames(role: GraphRole, m: BundleManifest, actual: GraphIo, where: string): void {
  const expected = expectedGraphIo(role, m);
  const problems: string[] = [];
  for (const kind of ['inputs', 'outputs'] as const) {
    const { missing, extra } = diffNames(expected[kind], actual[kind]);
    if (missing.length) problems.push(`${kind} missing: ${missing.join(', ')}`);
    if (extra.length) problems.push(`unexpected ${kind}: ${extra.join(', ')}`);
  }
  if (problems.length) {
    throw new BundleError(`graph '${role}' (${where}) does not match the bundle spec: ${problems.join('; ')}`);
  }
}
