// The funnel's envelope behaviour on a real store and job queue.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createApi, createFunnel, createHandlers } from '../../../src-main/api/index';
import type { HandlerTable } from '../../../src-main/api/index';
import { StoreError } from '../../../src-main/store/types';
import { ApiError, ApiErrorShape, DEFAULT_SETTINGS, ROUTE_NAMES, routes } from '../../../src-shared/contract';
import type { TestCore } from './helpers';
import { openTestCore, tinyPng } from './helpers';

const trusted = { trusted: true };
let t: TestCore;
let internalErrors: string[];
let invoke: ReturnType<typeof createApi>['invoke'];

before(() => {
  t = openTestCore();
  internalErrors = [];
  invoke = createApi(t.core, {
    trustSender: (sender) => sender === trusted,
    onInternalError: (route) => internalErrors.push(route),
  }).invoke;
});
after(() => t.close());

test('every route name has a schema and every schema a handler', () => {
  assert.deepEqual(Object.keys(routes).sort(), [...ROUTE_NAMES].sort());
  assert.deepEqual(Object.keys(createHandlers(t.core)).sort(), [...ROUTE_NAMES].sort());
});

test('settings: defaults, a patch saved and read back, invalid values refused', async () => {
  assert.deepEqual(await invoke('settings.get', undefined, trusted), { ok: true, data: DEFAULT_SETTINGS });
  const set = await invoke('settings.set', { executionProvider: 'cpu', threads: 6, theme: 'dark' }, trusted);
  assert.equal(set.ok, true);
  const read = await invoke('settings.get', undefined, trusted);
  assert.deepEqual(read, { ok: true, data: { ...DEFAULT_SETTINGS, executionProvider: 'cpu', threads: 6, theme: 'dark' } });

  const bad = await invoke('settings.set', { executionProvider: 'tpu' }, trusted);
  assert.equal(bad.ok, false);
  assert.equal(!bad.ok && bad.error.code, 'VALIDATION');
  assert.match(!bad.ok ? bad.error.message : '', /executionProvider/);
  // Nothing changed.
  assert.deepEqual(await invoke('settings.get', undefined, trusted), read);
});

test('a stored setting that no longer fits its schema reads as the default', async () => {
  t.core.store.settings.set('studio.defaultSteps', 'many');
  const read = await invoke('settings.get', undefined, trusted);
  assert.equal(read.ok && (read.data as { defaultSteps: number }).defaultSteps, DEFAULT_SETTINGS.defaultSteps);
});

test('an untrusted sender gets FORBIDDEN and no handler runs', async () => {
  let calls = 0;
  const handlers = createHandlers(t.core);
  const counted = { ...handlers, 'settings.set': (input: never) => { calls++; return handlers['settings.set'](input); } } as HandlerTable;
  const funnel = createFunnel(counted, { trustSender: (sender) => sender === trusted });
  for (const sender of [undefined, null, {}, { trusted: true }, 'studio']) {
    const result = await funnel('settings.set', { threads: 1 }, sender);
    assert.deepEqual(result, { ok: false, error: { code: 'FORBIDDEN', message: 'this request did not come from the studio' } });
  }
  // A predicate that throws counts as "no".
  const throwing = createFunnel(counted, { trustSender: () => { throw new Error('boom'); } });
  assert.equal((await throwing('settings.set', { threads: 1 }, trusted)).ok, false);
  assert.equal(calls, 0);
});

test('unknown routes are VALIDATION errors', async () => {
  // The last two cannot become strings (String() throws on them): the funnel must not try.
  const unprintable = [{ toString: {} }, Object.create(null) as object];
  for (const route of ['settings.delete', '', 'toString', '__proto__', 'constructor', 42, null, { route: 'app.info' }, ...unprintable]) {
    const result = await invoke(route, undefined, trusted);
    assert.equal(result.ok, false);
    assert.equal(!result.ok && result.error.code, 'VALIDATION', typeof route === 'string' ? route : typeof route);
  }
});

test('history: NOT_FOUND for a missing item; favourite and tags round trip with image URLs from the host', async () => {
  const missing = await invoke('history.get', { id: '00000000-0000-4000-8000-000000000000' }, trusted);
  assert.equal(!missing.ok && missing.error.code, 'NOT_FOUND');

  const generation = t.core.store.generations.create({
    kind: 't2i', prompt: 'a lighthouse at dusk', seed: 7, modelName: 'atelier-nano', params: { steps: 12, cfg: 3 },
    images: [{ role: 'output', data: tinyPng, width: 1, height: 1 }],
  });
  const got = await invoke('history.get', { id: generation.id }, trusted);
  assert.ok(got.ok);
  const item = got.data as { images: { url: string; sha256: string }[]; params: unknown };
  assert.equal(item.images.length, 1);
  assert.match(item.images[0]!.url, /^test-image:\/images\//);
  assert.deepEqual(item.params, { steps: 12, cfg: 3 });

  const fav = await invoke('history.setFavourite', { id: generation.id, favourite: true }, trusted);
  assert.equal(fav.ok && (fav.data as { favourite: boolean }).favourite, true);
  const tagged = await invoke('history.setTags', { id: generation.id, tags: ['sea', 'dusk', 'sea'] }, trusted);
  assert.deepEqual(tagged.ok && [...(tagged.data as { tags: string[] }).tags].sort(), ['dusk', 'sea']);

  const favourites = await invoke('history.list', { favourite: true }, trusted);
  assert.deepEqual(favourites.ok && (favourites.data as { items: { id: string }[] }).items.map((i) => i.id), [generation.id]);
  const found = await invoke('history.search', { text: 'lighthouse' }, trusted);
  assert.equal(found.ok && (found.data as { items: unknown[] }).items.length, 1);
  const none = await invoke('history.list', { text: 'submarine' }, trusted);
  assert.equal(none.ok && (none.data as { items: unknown[] }).items.length, 0);

  const deleted = await invoke('history.delete', { id: generation.id }, trusted);
  assert.deepEqual(deleted, { ok: true, data: { deleted: true, removedFiles: 1 } });
  const gone = await invoke('history.get', { id: generation.id }, trusted);
  assert.equal(!gone.ok && gone.error.code, 'NOT_FOUND');
});

test('jobs: submit runs in the worker, cancel of a finished job is a CONFLICT, unknown job NOT_FOUND', async () => {
  const submitted = await invoke('jobs.submit', { kind: 'diagnostics.count', params: { n: 2, delayMs: 1 } }, trusted);
  assert.ok(submitted.ok);
  const { jobId } = submitted.data as { jobId: string };
  assert.equal(((await t.core.jobs.wait(jobId)) as { counted: number }).counted, 2);
  const listed = await invoke('jobs.list', undefined, trusted);
  const job = listed.ok && (listed.data as { jobs: { jobId: string; state: string }[] }).jobs.find((j) => j.jobId === jobId);
  assert.equal(job && job.state, 'done');
  const late = await invoke('jobs.cancel', { jobId }, trusted);
  assert.equal(!late.ok && late.error.code, 'CONFLICT');
  const unknown = await invoke('jobs.cancel', { jobId: 'no-such-job' }, trusted);
  assert.equal(!unknown.ok && unknown.error.code, 'NOT_FOUND');
});

test('models: bundles are listed with their problems named', async () => {
  const root = join(t.dataDir, 'models');
  mkdirSync(join(root, 'good'), { recursive: true });
  writeFileSync(join(root, 'good', 'bundle.json'), JSON.stringify({ format: 'atelier-bundle', format_version: 1, name: 'good-model', variant: 'nano', image: { width: 64, height: 64 } }));
  mkdirSync(join(root, 'future'));
  writeFileSync(join(root, 'future', 'bundle.json'), JSON.stringify({ format: 'atelier-bundle', format_version: 9 }));
  mkdirSync(join(root, 'empty'));
  const listed = await invoke('models.list', undefined, trusted);
  assert.ok(listed.ok);
  const models = (listed.data as { models: { id: string; name: string; problem: string | null; image: unknown }[] }).models;
  const byId = Object.fromEntries(models.map((m) => [m.id, m]));
  assert.equal(byId.good?.name, 'good-model');
  assert.equal(byId.good?.problem, null);
  assert.deepEqual(byId.good?.image, { width: 64, height: 64 });
  assert.match(byId.future?.problem ?? '', /format 9/);
  assert.match(byId.empty?.problem ?? '', /no bundle\.json/);
});

test('handler failures become typed errors; unexpected ones INTERNAL without internals', async () => {
  const handlers = createHandlers(t.core);
  const seen: string[] = [];
  const make = (impl: () => unknown) =>
    createFunnel({ ...handlers, 'app.info': impl } as HandlerTable, { trustSender: () => true, onInternalError: (route) => seen.push(route) });

  const apiError = await make(() => { throw new ApiError('UNAVAILABLE', 'no model', { model: 'x' }); })('app.info', undefined, trusted);
  assert.deepEqual(apiError, { ok: false, error: { code: 'UNAVAILABLE', message: 'no model', details: { model: 'x' } } });

  const storeError = await make(() => { throw new StoreError('NEWER_SCHEMA', 'database from a newer Atelier'); })('app.info', undefined, trusted);
  assert.deepEqual(storeError, { ok: false, error: { code: 'UNAVAILABLE', message: 'database from a newer Atelier' } });

  const crash = await make(() => { throw new Error('secret path /home/x'); })('app.info', undefined, trusted);
  assert.equal(!crash.ok && crash.error.code, 'INTERNAL');
  assert.doesNotMatch(JSON.stringify(crash), /secret|\/home/);

  const offSchema = await make(() => ({ name: 'Atelier', version: 1 }))('app.info', undefined, trusted);
  assert.equal(!offSchema.ok && offSchema.error.code, 'INTERNAL');
  assert.deepEqual(seen, ['app.info', 'app.info']);
  for (const result of [apiError, storeError, crash, offSchema]) assert.ok(!result.ok && ApiErrorShape.safeParse(result.error).success);
  assert.deepEqual(internalErrors, []);
});
