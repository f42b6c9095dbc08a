// File names made from prompts and templates. Whatever a prompt or template says, a name here is
// one plain path segment: no separators, no `.`/`..`, no control characters, no characters Windows
// refuses, no reserved Windows device names, and at most MAX_SEGMENT_BYTES of UTF-8 (file systems
// limit names in bytes, not characters). Paths are then joined under the output folder and checked
// to stay inside it.
import path from 'node:path';

/** 255 is the usual limit; the rest is room for a collision suffix and the temp-file prefix. */
export const MAX_SEGMENT_BYTES = 200;

// C0 and C1 control characters, DEL, and the Unicode line/paragraph separators and bidi overrides
// that can make a name display as something else.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/gu;
// Characters Windows does not allow in names (and `/`, `\` everywhere).
const FORBIDDEN = /[<>:"/\\|?*]/g;
// CON, PRN, AUX, NUL, COM0-9, LPT0-9 (also with superscript digits), CONIN$, CONOUT$: reserved on
// Windows whatever the extension (`nul.png` is still the null device).
const RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)$/i;

/** Cuts a string to at most `maxBytes` of UTF-8 without splitting a character. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  let out = '';
  let bytes = 0;
  for (const ch of text) {
    const n = Buffer.byteLength(ch, 'utf8');
    if (bytes + n > maxBytes) break;
    out += ch;
    bytes += n;
  }
  return out;
}

/**
 * One safe path segment. `extension` (with its dot) is kept whole and counted in the byte limit.
 * An empty result becomes `fallback`.
 */
export function sanitizeSegment(raw: string, options: { extension?: string; fallback?: string; maxBytes?: number } = {}): string {
  const extension = options.extension ?? '';
  const maxBytes = (options.maxBytes ?? MAX_SEGMENT_BYTES) - Buffer.byteLength(extension, 'utf8');
  let name = raw.normalize('NFC').replace(CONTROL, '').replace(FORBIDDEN, '_').replace(/\s+/g, ' ');
  // Leading dots would hide the file (or make `..`); trailing dots and spaces are dropped by Windows.
  name = name.replace(/^[\s.]+/, '').replace(/[\s.]+$/, '');
  name = truncateUtf8(name, maxBytes).replace(/[\s.]+$/, '');
  if (name === '') name = options.fallback ?? 'untitled';
  const stem = name.split('.')[0]!.trim();
  if (RESERVED.test(stem)) name = `_${name}`;
  return truncateUtf8(name, maxBytes) + extension;
}

/** A short readable slug of a prompt: lower-case letters and digits of any script, joined by `-`. */
export function slugify(text: string, maxChars = 60): string {
  const words = text.normalize('NFKC').toLowerCase().replace(CONTROL, ' ').match(/[\p{L}\p{N}]+/gu) ?? [];
  let slug = '';
  for (const word of words) {
    const next = slug ? `${slug}-${word}` : word;
    if ([...next].length > maxChars) {
      if (!slug) slug = [...word].slice(0, maxChars).join('');
      break;
    }
    slug = next;
  }
  return slug;
}

/** True when `candidate` (absolute) is `root` itself or inside it. */
export function isInside(root: string, candidate: string): boolean {
  const rel = path.relative(path.resolve(root), path.resolve(candidate));
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * Joins sanitised segments under `root`; throws if the result would leave it (it cannot, after
 * sanitising, but the check costs nothing and guards future changes).
 */
export function joinInside(root: string, relativePath: string): string {
  const full = path.resolve(root, ...relativePath.split('/'));
  if (!isInside(root, full) || full === path.resolve(root)) {
    throw new Error(`refusing to write '${relativePath}': it is not a file inside ${root}`);
  }
  return full;
}
