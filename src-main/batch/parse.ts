// Prompt lists: plain text (one prompt per line), CSV/TSV (a header row naming the columns) or JSONL
// (one JSON object per line). Every row is checked on its own: a bad row is reported with its line
// and the reasons, and the others go on. Only a file that cannot be read as a list at all (no prompt
// column, unreadable CSV) is refused whole.
import path from 'node:path';
import { parseCsv } from './csv';
import type { BatchRowParams } from './rows';
import { checkRow, columnField, KNOWN_COLUMNS } from './rows';

export type ListFormat = 'txt' | 'csv' | 'tsv' | 'jsonl';
export const LIST_FORMATS: readonly ListFormat[] = ['txt', 'csv', 'tsv', 'jsonl'];

export interface ParsedRow {
  /** Where the row starts in the file (1-based line). */
  line: number;
  params: BatchRowParams | null;
  /** Why the row cannot run; empty when params is set. */
  errors: string[];
}

export interface ParsedList {
  format: ListFormat;
  rows: ParsedRow[];
  /** Things about the whole file worth saying (ignored columns…). */
  warnings: string[];
}

export class PromptListError extends Error {}

export const MAX_ROWS = 100_000;

/** The format from the file name, else from the content (a first line starting with `{` is JSONL). */
export function detectFormat(fileName: string, text: string): ListFormat {
  const ext = path.extname(fileName).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.tsv' || ext === '.tab') return 'tsv';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  if (ext === '.txt' || ext === '.text' || ext === '.prompts') return 'txt';
  const first = text.replace(/^\ufeff/, '').split(/\r?\n/).find((l) => l.trim() !== '') ?? '';
  return first.trimStart().startsWith('{') ? 'jsonl' : 'txt';
}

function fromFields(line: number, fields: Record<string, unknown>, baseDir: string): ParsedRow {
  const check = checkRow(fields, baseDir);
  return check.ok ? { line, params: check.params, errors: [] } : { line, params: null, errors: check.errors };
}

function ignoredWarning(names: Iterable<string>): string[] {
  const list = [...new Set(names)];
  if (!list.length) return [];
  return [`ignored unknown column${list.length > 1 ? 's' : ''} ${list.map((n) => JSON.stringify(n)).join(', ')} (known: ${KNOWN_COLUMNS.join(', ')})`];
}

function parseTxt(text: string, baseDir: string): ParsedList {
  const rows: ParsedRow[] = [];
  text
    .replace(/^\ufeff/, '')
    .split(/\r\n|\n|\r/)
    .forEach((raw, i) => {
      const line = raw.trim();
      // Blank lines and # comments are not prompts.
      if (line === '' || line.startsWith('#')) return;
      rows.push(fromFields(i + 1, { prompt: line }, baseDir));
    });
  return { format: 'txt', rows, warnings: [] };
}

function parseDelimited(text: string, format: 'csv' | 'tsv', baseDir: string): ParsedList {
  let records;
  try {
    records = parseCsv(text, format === 'tsv' ? '\t' : ',');
  } catch (e) {
    throw new PromptListError(`cannot read the ${format.toUpperCase()}: ${(e as Error).message}`);
  }
  const header = records.shift();
  if (!header) throw new PromptListError(`the ${format.toUpperCase()} file is empty`);
  const names = header.fields.map((f) => f.trim());
  const fields = names.map(columnField);
  if (!fields.includes('prompt') && !fields.includes('instruction')) {
    throw new PromptListError(
      `the first row of a ${format.toUpperCase()} must name the columns, one of them "prompt" (or "instruction"); found ${names.map((n) => JSON.stringify(n)).join(', ')}`,
    );
  }
  const seen = new Set<string>();
  for (const n of names) {
    const key = n.toLowerCase();
    if (seen.has(key)) throw new PromptListError(`the column "${n}" appears twice in the header`);
    seen.add(key);
  }
  const warnings = ignoredWarning(names.filter((n, i) => n !== '' && fields[i] === null));
  const rows = records.map((r): ParsedRow => {
    if (r.fields.length > names.length && r.fields.slice(names.length).some((f) => f.trim() !== '')) {
      return { line: r.line, params: null, errors: [`has ${r.fields.length} fields but the header names ${names.length} (an unquoted comma in a prompt? put the prompt in "quotes")`] };
    }
    const obj: Record<string, unknown> = {};
    names.forEach((n, i) => {
      if (fields[i]) obj[n] = r.fields[i] ?? '';
    });
    return fromFields(r.line, obj, baseDir);
  });
  return { format, rows, warnings };
}

function parseJsonl(text: string, baseDir: string): ParsedList {
  const rows: ParsedRow[] = [];
  const unknown: string[] = [];
  text
    .replace(/^\ufeff/, '')
    .split(/\r?\n/)
    .forEach((raw, i) => {
      const line = raw.trim();
      if (line === '') return;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (e) {
        rows.push({ line: i + 1, params: null, errors: [`not valid JSON: ${(e as Error).message}`] });
        return;
      }
      if (typeof value === 'string') value = { prompt: value };
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        rows.push({ line: i + 1, params: null, errors: ['each line must be a JSON object like {"prompt": "…", "seed": 1}'] });
        return;
      }
      for (const key of Object.keys(value)) if (!columnField(key)) unknown.push(key);
      rows.push(fromFields(i + 1, value as Record<string, unknown>, baseDir));
    });
  return { format: 'jsonl', rows, warnings: ignoredWarning(unknown) };
}

/**
 * Reads a prompt list. `fileName` picks the format unless `format` is given; `baseDir` is where
 * relative image paths in the list are looked up (the list's own folder).
 */
export function parsePromptList(text: string, options: { fileName: string; baseDir: string; format?: ListFormat }): ParsedList {
  const format = options.format ?? detectFormat(options.fileName, text);
  const list = format === 'txt' ? parseTxt(text, options.baseDir) : format === 'jsonl' ? parseJsonl(text, options.baseDir) : parseDelimited(text, format, options.baseDir);
  if (list.rows.length === 0) throw new PromptListError('the prompt list has no prompts');
  if (list.rows.length > MAX_ROWS) throw new PromptListError(`the prompt list has ${list.rows.length} rows; at most ${MAX_ROWS} per batch`);
  return list;
}
