import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { parseManifest, BundleError, hasEditGenerator } from '../../../src-main/engine/bundle/manifest';
import { checkGraphNames, expectedGraphIo } from '../../../src-main/engine/bundle/graph-io';

const fixture = new URL('../../fixtures/bundle-fixture/bundle.json', import.meta.url);
const skip = !existsSync(fixture) && 'no fixture bundle';
const text = (): string => readFileSync(fixture, 'utf8');
const edited = (f: (j: Record<string, unknown>) => void): string => {
  const j = JSON.parse(text()) as Record<string, unknown>;
  f(j);
  return JSON.stringify(j);
};

test('the fixture manifest parses', { skip }, () => {
  const m = parseManifest(text());
  assert.equal(m.format_version, 1);
  assert.equal(m.condition.length, m.image_tokens.count + 1);
});

test('a newer format version is refused with a clear message', { skip }, () => {
  assert.throws(() => parseManifest(edited((j) => (j['format_version'] = 2))), (e: Error) => e instanceof BundleError && /format_version 2.*version 1/.test(e.message));
});

test('missing or mistyped keys are named by path', { skip }, () => {
  assert.throws(() => parseManifest(edited((j) => delete j['latent'])), /latent/);
  assert.throws(() => parseManifest(edited((j) => ((j['ar'] as Record<string, unknown>)['layers'] = 'two'))), /ar\.layers/);
  assert.throws(() => parseManifest('{not json'), /not valid JSON/);
  assert.throws(() => parseManifest(edited((j) => (j['format'] = 'other'))), /format/);
});

test('inconsistent sizes are refused', { skip }, () => {
  assert.throws(() => parseManifest(edited((j) => ((j['condition'] as Record<string, unknown>)['length'] = 3))), /condition.length/);
  assert.throws(() => parseManifest(edited((j) => delete (j['graphs'] as Record<string, unknown>)['dit'])), /graphs.dit is missing/);
});

test('graph names are checked against the spec, naming missing and extra names', { skip }, () => {
  const m = parseManifest(text());
  const io = expectedGraphIo('ar', m);
  assert.equal(io.inputs.length, 3 + 2 * m.ar.layers);
  assert.doesNotThrow(() => checkGraphNames('ar', m, io, 'x'));
  assert.throws(
    () => checkGraphNames('dit', m, { inputs: ['latents', 'timestep', 'cond', 'extra'], outputs: ['velocity'] }, 'dit.onnx'),
    /graph 'dit' \(dit.onnx\).*inputs missing: ref_latents.*unexpected inputs: extra/,
  );
});

test('an edit generator is all three graphs or none, each named like the graph it stands in for', { skip }, () => {
  // the fixture bundle with the edit generator's entries laid over it (tests/fixtures/edit-generator)
  const patch = JSON.parse(readFileSync(new URL('../../fixtures/edit-generator/bundle-patch.json', import.meta.url), 'utf8')) as {
    graphs: Record<string, unknown>;
    files: unknown[];
  };
  const withEditor = edited((j) => {
    Object.assign(j['graphs'] as Record<string, unknown>, patch.graphs);
    (j['files'] as unknown[]).push(...patch.files);
  });
  const m = parseManifest(withEditor);
  assert.equal(hasEditGenerator(m), true);
  assert.equal(hasEditGenerator(parseManifest(text())), false);
  assert.deepEqual(expectedGraphIo('edit_ar', m), expectedGraphIo('ar', m));
  assert.deepEqual(expectedGraphIo('edit_dit', m), expectedGraphIo('dit', m));
  const partial = JSON.parse(withEditor) as { graphs: Record<string, unknown> };
  delete partial.graphs['edit_connector'];
  assert.throws(() => parseManifest(JSON.stringify(partial)), (e: Error) => e instanceof BundleError && /edit generator needs edit_ar, edit_connector, edit_dit; graphs has only edit_ar, edit_dit/.test(e.message));
});
