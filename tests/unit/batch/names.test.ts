// File names from prompts and templates: whatever goes in, what comes out is one safe name inside
// the output folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { isInside, joinInside, MAX_SEGMENT_BYTES, sanitizeSegment, slugify, truncateUtf8 } from '../../../src-main/export/sanitize';
import { checkTemplate, expandTemplate, TemplateError } from '../../../src-main/export/template';
import type { NameFields } from '../../../src-main/export/template';
import { firstFreeName } from '../../../src-main/export/files';

const RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)$/i;

function assertSafeSegment(name: string): void {
  assert.ok(name.length > 0, 'empty name');
  assert.ok(!/[/\\<>:"|?*]/.test(name), `forbidden character in ${JSON.stringify(name)}`);
  assert.ok(!/[\u0000-\u001f\u007f-\u009f]/.test(name), `control character in ${JSON.stringify(name)}`);
  assert.ok(name !== '.' && name !== '..' && !name.startsWith('.'), `dot name ${JSON.stringify(name)}`);
  assert.ok(!/[ .]$/.test(name), `trailing dot or space in ${JSON.stringify(name)}`);
  assert.ok(Buffer.byteLength(name, 'utf8') <= MAX_SEGMENT_BYTES, `${Buffer.byteLength(name)} bytes`);
  assert.ok(!RESERVED.test(name.split('.')[0]!.trim()), `reserved name ${JSON.stringify(name)}`);
}

const fields = (over: Partial<NameFields> = {}): NameFields => ({
  index: 7,
  count: 50,
  seed: 1234,
  prompt: 'A red apple, on a table!',
  date: new Date('2026-11-26T10:00:00Z'),
  model: 'atelier-nano',
  steps: 20,
  cfg: 4.5,
  ...over,
});

test('hostile names become one safe segment', () => {
  const cases: [string, string][] = [
    ['../../x', '_.._x'],
    ['..', 'untitled'],
    ['a\u0000b', 'ab'],
    ['con', '_con'],
    ['NUL.png', '_NUL.png'],
    ['lpt¹', '_lpt¹'],
    ['a/b\\c', 'a_b_c'],
    ['name. . ', 'name'],
    ['\u202eevil\u202c.exe', 'evil.exe'],
    ['C:\\Windows\\system32', 'C__Windows_system32'],
  ];
  for (const [raw, want] of cases) assert.equal(sanitizeSegment(raw), want, raw);
  for (const [raw] of cases) assertSafeSegment(sanitizeSegment(raw, { extension: '.png' }));
});

test('length is limited in UTF-8 bytes, never splitting a character', () => {
  const long = '猫'.repeat(400); // 3 bytes each
  const name = sanitizeSegment(long, { extension: '.webp' });
  assert.ok(name.endsWith('.webp'));
  assert.ok(Buffer.byteLength(name) <= MAX_SEGMENT_BYTES);
  assert.ok(Buffer.byteLength(name) > MAX_SEGMENT_BYTES - 3);
  assert.equal(truncateUtf8('a😀b', 3), 'a'); // the 4-byte emoji does not fit in 2 bytes
  assert.equal(truncateUtf8('a😀b', 5), 'a😀');
});

test('any string at all gives a safe segment (property)', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 600 }), fc.constantFrom('', '.png', '.jpg'), (raw, ext) => {
      const name = sanitizeSegment(raw, { extension: ext });
      assertSafeSegment(name);
      assert.ok(name.endsWith(ext));
    }),
    { numRuns: 2000 },
  );
});

test('any template and prompt stay inside the output folder (property)', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-names-'));
  try {
    const piece = fc.oneof(fc.constantFrom('{index}', '{seed}', '{prompt-slug}', '{date}', '{model}', '/', '../', '..', '\\', '\u0000', 'con', '.', ' '), fc.string({ unit: 'binary', maxLength: 20 }).map((s) => s.replace(/[{}]/g, '')));
    fc.assert(
      fc.property(fc.array(piece, { minLength: 1, maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ maxLength: 40 }), (parts, prompt, model) => {
        const template = parts.join('');
        if (template.trim() === '') return;
        const rel = expandTemplate(template, fields({ prompt, model }), '.png');
        const full = joinInside(root, rel);
        assert.ok(isInside(root, full) && full !== root);
        for (const segment of rel.split('/')) assertSafeSegment(segment);
        assert.ok(rel.endsWith('.png'));
      }),
      { numRuns: 1500 },
    );
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('templates fill their placeholders; unknown ones are refused by name', () => {
  assert.equal(expandTemplate('{index}-{prompt-slug}', fields(), '.png'), '0007-a-red-apple-on-a-table.png');
  assert.equal(expandTemplate('{model}/{date}/{seed}', fields(), '.jpg'), 'atelier-nano/2026-11-26/1234.jpg');
  assert.equal(expandTemplate('{index}', fields({ index: 3, count: 123456 }), '.png'), '003'.padStart(6, '0') + '.png');
  assert.equal(expandTemplate('s{steps}-c{cfg}', fields(), '.png'), 's20-c4.5.png');
  // Values cannot make folders: a model called "../x" stays one segment.
  assert.equal(expandTemplate('{model}-{index}', fields({ model: '../../x' }), '.png'), '_.._x-0007.png');
  assert.equal(expandTemplate('../../{index}', fields(), '.png'), '_/_/0007.png');
  assert.throws(() => checkTemplate('{index}-{nope}'), (e: Error) => e instanceof TemplateError && /unknown placeholder \{nope\}.*\{index\}/.test(e.message));
  assert.throws(() => checkTemplate('{index'), /unbalanced brace/);
  assert.throws(() => checkTemplate('  '), /empty/);
  assert.equal(slugify('Ünïcode 猫 — cats & dogs!!'), 'ünïcode-猫-cats-dogs');
  assert.equal(slugify('x'.repeat(100)).length, 60);
});

test('a taken name gets the next free suffix, compared case-insensitively by the caller', () => {
  const taken = new Set(['a.png', 'a-2.png']);
  assert.equal(firstFreeName('a.png', (c) => taken.has(c)), 'a-3.png');
  assert.equal(firstFreeName('sub/b.png', () => false), 'sub/b.png');
});
