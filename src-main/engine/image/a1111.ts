// The A1111 `parameters` text (see ../shared/design/studio-conventions.md): prompt lines, an optional
// "Negative prompt:" block, and a last line of `Key: value` pairs joined by ", ". Values holding
// `,`, `:` or a newline are written as JSON strings. A reader takes the last line as parameters only
// when it holds at least 3 pairs.

export interface A1111Parameters {
  prompt: string;
  negativePrompt: string;
  /** Key → value, in the order written. */
  params: Record<string, string>;
}

const NEGATIVE = 'Negative prompt:';

function quoteValue(v: string): string {
  return /[,:\n\r"]/.test(v) ? JSON.stringify(v) : v;
}

export function formatA1111(p: A1111Parameters): string {
  const lines = [p.prompt];
  if (p.negativePrompt) lines.push(`${NEGATIVE} ${p.negativePrompt}`);
  const pairs = Object.entries(p.params)
    .filter(([, v]) => v !== '')
    .map(([k, v]) => `${k}: ${quoteValue(v)}`);
  if (pairs.length) lines.push(pairs.join(', '));
  return lines.join('\n');
}

// key: value, where value is a JSON string or runs to the next comma.
const PAIR = /\s*([\w][\w \-/.()]*):\s*("(?:\\.|[^\\"])*"|[^,]*)(?:,|$)/g;

function parsePairs(line: string): Record<string, string> | null {
  const out: Record<string, string> = {};
  let count = 0;
  let consumed = 0;
  PAIR.lastIndex = 0;
  for (let m = PAIR.exec(line); m && m[0] !== ''; m = PAIR.exec(line)) {
    if (m.index !== consumed) return null; // garbage between pairs: not a parameter line
    consumed = PAIR.lastIndex;
    let value = m[2]!.trim();
    if (value.startsWith('"')) {
      try {
        value = JSON.parse(value) as string;
      } catch {
        // leave a malformed quoted value as written
      }
    }
    out[m[1]!.trim()] = value;
    count++;
    if (PAIR.lastIndex >= line.length) break;
  }
  if (line.slice(consumed).trim() !== '') return null;
  return count >= 3 ? out : null;
}

export function parseA1111(text: string): A1111Parameters {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  let params: Record<string, string> = {};
  if (lines.length) {
    const parsed = parsePairs(lines[lines.length - 1]!);
    if (parsed) {
      params = parsed;
      lines.pop();
    }
  }
  const negAt = lines.findIndex((l) => l.startsWith(NEGATIVE));
  const promptLines = negAt >= 0 ? lines.slice(0, negAt) : lines;
  const negLines = negAt >= 0 ? lines.slice(negAt) : [];
  if (negLines.length) negLines[0] = negLines[0]!.slice(NEGATIVE.length).replace(/^ /, '');
  return { prompt: promptLines.join('\n'), negativePrompt: negLines.join('\n'), params };
}
