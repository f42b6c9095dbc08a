// File-name templates: `{index}-{prompt-slug}` and the like. Placeholders are filled in, then the
// name is split on `/` (a template may make sub-folders) and every segment is sanitised on its own,
// so neither a template nor a prompt can climb out of the output folder.
import { sanitizeSegment, slugify } from './sanitize';

export const DEFAULT_TEMPLATE = '{index}-{prompt-slug}';

export const PLACEHOLDERS = ['index', 'seed', 'prompt-slug', 'date', 'model', 'steps', 'cfg'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

export interface NameFields {
  /** 1-based position in the batch or selection. */
  index: number;
  /** How many items there are (sets the zero padding of {index}). */
  count: number;
  seed: number;
  prompt: string;
  /** When the batch or export was made; {date} is its UTC day, so names stay stable across a resume. */
  date: Date;
  model: string;
  steps?: number;
  cfg?: number;
}

const TOKEN = /\{([^{}]*)\}/g;
const MAX_SEGMENTS = 8;

export class TemplateError extends Error {}

/** Throws a TemplateError naming the first unknown placeholder or a malformed brace. */
export function checkTemplate(template: string): void {
  if (template.trim() === '') throw new TemplateError('the file-name template is empty');
  if (template.length > 500) throw new TemplateError('the file-name template is longer than 500 characters');
  for (const m of template.matchAll(TOKEN)) {
    if (!(PLACEHOLDERS as readonly string[]).includes(m[1]!)) {
      throw new TemplateError(`unknown placeholder {${m[1]}} in the file-name template (known: ${PLACEHOLDERS.map((p) => `{${p}}`).join(' ')})`);
    }
  }
  const rest = template.replace(TOKEN, '');
  if (rest.includes('{') || rest.includes('}')) throw new TemplateError(`unbalanced brace in the file-name template '${template}'`);
}

function value(name: Placeholder, f: NameFields): string {
  switch (name) {
    case 'index':
      return String(f.index).padStart(Math.max(4, String(f.count).length), '0');
    case 'seed':
      return String(f.seed);
    case 'prompt-slug':
      return slugify(f.prompt) || 'untitled';
    case 'date':
      return f.date.toISOString().slice(0, 10);
    case 'model':
      return f.model;
    case 'steps':
      return f.steps === undefined ? '' : String(f.steps);
    case 'cfg':
      return f.cfg === undefined ? '' : String(f.cfg);
  }
}

/**
 * The relative path (forward slashes) a template gives for these fields, extension included.
 * Values cannot add folders: separators inside a value are replaced before the split.
 */
export function expandTemplate(template: string, fields: NameFields, extension: string): string {
  checkTemplate(template);
  // Separators that come from values are neutralised first; only the template's own `/` splits.
  const SEP = '\u0000sep\u0000';
  const filled = template
    .replace(/[\u0000-\u001f]/g, '')
    .replace(/[/\\]/g, SEP)
    .replace(TOKEN, (_, name: Placeholder) => value(name, fields).replace(/[\u0000-\u001f/\\]/g, '_'));
  const parts = filled.split(SEP);
  const folders = parts
    .slice(0, -1)
    .filter((p) => p.trim() !== '')
    .slice(-(MAX_SEGMENTS - 1))
    .map((p) => sanitizeSegment(p, { fallback: '_' }));
  const file = sanitizeSegment(parts[parts.length - 1]!, { extension, fallback: `image-${value('index', fields)}` });
  return [...folders, file].join('/');
}
