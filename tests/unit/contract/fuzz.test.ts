// 1,000 random invalid requests through the funnel: each gets a typed VALIDATION error and none
// reaches a handler. Invalid payloads are built by breaking known-valid ones in ways the contract
// forbids (wrong types, out-of-range numbers, missing required fields, unknown keys, non-objects,
// unknown routes), so the generator does not lean on the schemas it tests.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { createFunnel, createHandlers } from '../../../src-main/api/index';
import type { HandlerTable } from '../../../src-main/api/index';
import type { RouteName } from '../../../src-shared/contract';
import { ApiErrorShape, ROUTE_NAMES, routes } from '../../../src-shared/contract';
import type { TestCore } from './helpers';
import { openTestCore } from './helpers';

const UUID = '3f2c1a9e-5b7d-4c2e-9f1a-0b6d8e4c2a71';
const PNG = 'data:image/png;base64,iVBORw0KGgo=';

type Path = (string | number)[];
interface Field {
  path: Path;
  required: boolean;
  /** Values this field must refuse (besides values of another JS type). */
  bad?: fc.Arbitrary<unknown>;
}
interface RouteSample {
  valid: unknown;
  fields: Field[];
}

const notInt = fc.double({ min: -1e6, max: 1e6, noNaN: true }).filter((x) => !Number.isInteger(x));
const nonFinite = fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY);
const intOutside = (min: number, max: number) =>
  fc.oneof(fc.integer({ min: -1e9, max: min - 1 }), fc.integer({ min: max + 1, max: max + 1e9 }), notInt, nonFinite);
const numberOutside = (min: number, max: number) =>
  fc.oneof(fc.double({ max: min, maxExcluded: true, noNaN: true }), fc.double({ min: max, minExcluded: true, noNaN: true }), fc.constant(Number.NaN));
const notUuid = fc.string({ maxLength: 60 }).map((s) => `x${s}`);
const blank = fc.constantFrom('', ' ', '\n\t ');
const tooLong = (max: number) => fc.integer({ min: max + 1, max: max + 50 }).map((n) => 'a'.repeat(n));
const notInEnum = fc.string({ maxLength: 12 }).map((s) => `no-${s}`);

const generateParams = (prefix: Path): Field[] => [
  { path: [...prefix, 'prompt'], required: true, bad: fc.oneof(blank, tooLong(4000)) },
  { path: [...prefix, 'negativePrompt'], required: false, bad: tooLong(4000) },
  { path: [...prefix, 'seed'], required: true, bad: intOutside(0, 0xffff_ffff) },
  { path: [...prefix, 'steps'], required: true, bad: intOutside(1, 200) },
  { path: [...prefix, 'cfg'], required: true, bad: numberOutside(0, 30) },
  { path: [...prefix, 'model'], required: false, bad: fc.oneof(fc.constant(''), tooLong(200)) },
  { path: [...prefix, 'loras'], required: false },
  { path: [...prefix, 'loras', 0, 'path'], required: true, bad: fc.constantFrom('/etc/passwd.safetensors', '../up.safetensors', 'a/../../b.safetensors', 'C:/x.safetensors', 'a\\b.safetensors', 'style.bin', '', 'a//b.safetensors') },
  { path: [...prefix, 'loras', 0, 'weight'], required: true, bad: numberOutside(-2, 2) },
  { path: [...prefix, 'loras', 1, 'loraId'], required: true, bad: notUuid },
];
const generateValid = {
  prompt: 'a fox', negativePrompt: 'blur', seed: 3, steps: 20, cfg: 4, model: 'atelier-nano',
  loras: [{ path: 'styles/ink.safetensors', weight: 0.8 }, { loraId: UUID, weight: -0.5 }],
};

const samples: Record<RouteName, RouteSample | 'no-input'> = {
  'app.info': 'no-input',
  'settings.get': 'no-input',
  'settings.set': {
    valid: { executionProvider: 'cpu', threads: 2, defaultSteps: 20, defaultCfg: 4.5, seedMode: 'fixed', theme: 'dark' },
    fields: [
      { path: ['executionProvider'], required: false, bad: notInEnum },
      { path: ['threads'], required: false, bad: intOutside(0, 256) },
      { path: ['defaultSteps'], required: false, bad: intOutside(1, 200) },
      { path: ['defaultCfg'], required: false, bad: numberOutside(0, 30) },
      { path: ['seedMode'], required: false, bad: notInEnum },
      { path: ['theme'], required: false, bad: notInEnum },
    ],
  },
  'jobs.submit': {
    valid: { kind: 'diagnostics.count', params: { n: 5, delayMs: 10, preview: true } },
    fields: [
      { path: ['kind'], required: true, bad: notInEnum },
      { path: ['params'], required: true },
      { path: ['params', 'n'], required: true, bad: intOutside(1, 1_000_000) },
      { path: ['params', 'delayMs'], required: false, bad: intOutside(0, 60_000) },
      { path: ['params', 'preview'], required: false },
    ],
  },
  'jobs.cancel': { valid: { jobId: 'job-1' }, fields: [{ path: ['jobId'], required: true, bad: fc.oneof(fc.constant(''), tooLong(200)) }] },
  'jobs.list': 'no-input',
  'history.list': {
    valid: { text: 'fox', favourite: true, model: 'atelier-nano', kind: 't2i', tag: 'sea', lora: 'file:ink.safetensors', from: 0, to: 10, limit: 5, cursor: null },
    fields: [
      { path: ['lora'], required: false, bad: fc.oneof(fc.constant(''), tooLong(1100)) },
      { path: ['text'], required: false, bad: tooLong(500) },
      { path: ['favourite'], required: false },
      { path: ['model'], required: false, bad: tooLong(200) },
      { path: ['kind'], required: false, bad: notInEnum },
      { path: ['tag'], required: false, bad: fc.oneof(blank, tooLong(64)) },
      { path: ['from'], required: false, bad: fc.oneof(fc.integer({ max: -1 }), notInt) },
      { path: ['to'], required: false, bad: fc.oneof(fc.integer({ max: -1 }), notInt) },
      { path: ['limit'], required: false, bad: intOutside(1, 500) },
    ],
  },
  'history.get': { valid: { id: UUID }, fields: [{ path: ['id'], required: true, bad: notUuid }] },
  'history.search': {
    valid: { text: 'fox', limit: 10 },
    fields: [
      { path: ['text'], required: true, bad: fc.oneof(blank, tooLong(500)) },
      { path: ['limit'], required: false, bad: intOutside(1, 500) },
    ],
  },
  'history.delete': { valid: { id: UUID }, fields: [{ path: ['id'], required: true, bad: notUuid }] },
  'history.setFavourite': {
    valid: { id: UUID, favourite: false },
    fields: [{ path: ['id'], required: true, bad: notUuid }, { path: ['favourite'], required: true }],
  },
  'history.setTags': {
    valid: { id: UUID, tags: ['a', 'b'] },
    fields: [
      { path: ['id'], required: true, bad: notUuid },
      { path: ['tags'], required: true, bad: fc.array(fc.constantFrom('a', 'b'), { minLength: 65, maxLength: 80 }) },
      { path: ['tags', 0], required: true, bad: fc.oneof(blank, tooLong(64)) },
    ],
  },
  'history.tags': 'no-input',
  'history.lineage': { valid: { id: UUID }, fields: [{ path: ['id'], required: true, bad: notUuid }] },
  'models.list': 'no-input',
  'images.readParameters': {
    valid: { png: PNG },
    fields: [{ path: ['png'], required: true, bad: fc.constantFrom('', 'data:image/jpeg;base64,AAAA', 'file:///etc/passwd') }],
  },
  'batch.create': {
    valid: { fileName: 'p.csv', text: 'prompt\na fox\n', listFormat: 'csv', outDir: '/tmp/out', format: 'png', template: '{index}', model: 'atelier-nano', steps: 4, cfg: 2, seed: 1, zip: true },
    fields: [
      { path: ['fileName'], required: true, bad: fc.oneof(blank, tooLong(255)) },
      { path: ['text'], required: true, bad: fc.constant('') },
      { path: ['listFormat'], required: false, bad: notInEnum },
      { path: ['outDir'], required: false, bad: fc.oneof(blank, tooLong(4096)) },
      { path: ['format'], required: false, bad: notInEnum },
      { path: ['template'], required: false, bad: fc.oneof(blank, tooLong(500)) },
      { path: ['model'], required: false, bad: fc.oneof(fc.constant(''), tooLong(200)) },
      { path: ['steps'], required: false, bad: intOutside(1, 200) },
      { path: ['cfg'], required: false, bad: numberOutside(0, 30) },
      { path: ['seed'], required: false, bad: intOutside(0, 0xffff_ffff) },
      { path: ['zip'], required: false },
    ],
  },
  'batch.list': 'no-input',
  'batch.get': {
    valid: { id: UUID, limit: 10 },
    fields: [{ path: ['id'], required: true, bad: notUuid }, { path: ['limit'], required: false, bad: intOutside(1, 5000) }],
  },
  'batch.cancel': { valid: { id: UUID }, fields: [{ path: ['id'], required: true, bad: notUuid }] },
  'batch.resume': { valid: { id: UUID }, fields: [{ path: ['id'], required: true, bad: notUuid }] },
  'batch.export': {
    valid: { batchId: UUID, outDir: '/tmp/x', format: 'jpeg', template: '{seed}', zip: false, overwrite: false },
    fields: [
      // Without batchId there is nothing to export (generationIds is the alternative).
      { path: ['batchId'], required: true, bad: notUuid },
      { path: ['outDir'], required: true, bad: blank },
      { path: ['format'], required: false, bad: notInEnum },
      { path: ['template'], required: false, bad: blank },
      { path: ['zip'], required: false },
      { path: ['overwrite'], required: false },
    ],
  },
  'lora.inspect': {
    valid: { datasetDir: '/tmp/mug', trigger: 'sks' },
    fields: [
      { path: ['datasetDir'], required: true, bad: blank },
      { path: ['trigger'], required: false, bad: tooLong(100) },
    ],
  },
  'lora.setCaption': {
    valid: { datasetDir: '/tmp/mug', name: 'img1', caption: 'a mug on a table' },
    fields: [
      { path: ['datasetDir'], required: true, bad: blank },
      { path: ['name'], required: true, bad: fc.constantFrom('', 'a/b', '..\\x') },
      { path: ['caption'], required: true, bad: tooLong(2000) },
    ],
  },
  'lora.start': {
    valid: { name: 'mug', datasetDir: '/tmp/mug', model: 'atelier-nano', settings: { rank: 8, steps: 100, learningRate: 0.001, schedule: 'cosine' } },
    fields: [
      { path: ['name'], required: true, bad: fc.oneof(blank, tooLong(200)) },
      { path: ['datasetDir'], required: true, bad: blank },
      { path: ['model'], required: false, bad: fc.constant('') },
      { path: ['settings'], required: true },
      { path: ['settings', 'rank'], required: false, bad: intOutside(1, 256) },
      { path: ['settings', 'steps'], required: false, bad: intOutside(1, 1_000_000) },
      { path: ['settings', 'learningRate'], required: false, bad: numberOutside(0, 1) },
      { path: ['settings', 'schedule'], required: false, bad: notInEnum },
    ],
  },
  'lora.runs': 'no-input',
  'lora.available': 'no-input',
  'lora.run': { valid: { runId: UUID }, fields: [{ path: ['runId'], required: true, bad: notUuid }] },
  'lora.cancel': { valid: { runId: UUID }, fields: [{ path: ['runId'], required: true, bad: notUuid }] },
  'lora.try': {
    valid: { runId: UUID, prompt: 'sks, a mug', seed: 1, weight: 0.8 },
    fields: [
      { path: ['runId'], required: true, bad: notUuid },
      { path: ['prompt'], required: true, bad: fc.oneof(blank, tooLong(2000)) },
      { path: ['seed'], required: true, bad: intOutside(0, 0xffff_ffff) },
      { path: ['weight'], required: true, bad: numberOutside(-4, 4) },
    ],
  },
};

// Also break the image routes' params, which have the richest schemas.
const imageSamples: RouteSample[] = [
  { valid: { kind: 'image.generate', params: generateValid }, fields: generateParams(['params']) },
  {
    valid: { kind: 'image.edit', params: { ...generateValid, source: { generationId: UUID }, strength: 0.5 } },
    fields: [
      ...generateParams(['params']),
      { path: ['params', 'source'], required: true },
      { path: ['params', 'source', 'generationId'], required: true, bad: notUuid },
      { path: ['params', 'strength'], required: false, bad: numberOutside(0, 1) },
    ],
  },
  {
    valid: { kind: 'image.inpaint', params: { ...generateValid, source: { png: PNG }, mask: PNG } },
    fields: [
      ...generateParams(['params']),
      { path: ['params', 'source', 'png'], required: true, bad: fc.constantFrom('data:image/jpeg;base64,AAAA', 'http://example.com/a.png', 'data:image/png;base64,@@') },
      { path: ['params', 'mask'], required: true, bad: fc.constantFrom('', 'data:image/png,raw', 'javascript:alert(1)') },
    ],
  },
  {
    valid: { kind: 'image.outpaint', params: { ...generateValid, source: { generationId: UUID }, left: 0, top: 8, right: 16, bottom: 0 } },
    fields: [
      ...generateParams(['params']),
      { path: ['params', 'source', 'generationId'], required: true, bad: notUuid },
      ...(['left', 'top', 'right', 'bottom'] as const).map((side) => ({ path: ['params', side], required: true, bad: intOutside(0, 4096) })),
    ],
  },
];

/** A value of a different JS type than `value` (never null/undefined, which some fields accept). */
function otherType(value: unknown): fc.Arbitrary<unknown> {
  const byType: Record<string, fc.Arbitrary<unknown>> = {
    number: fc.oneof(fc.string(), fc.boolean(), fc.array(fc.integer(), { maxLength: 3 })),
    string: fc.oneof(fc.integer(), fc.boolean(), fc.dictionary(fc.string(), fc.integer(), { maxKeys: 2 })),
    boolean: fc.oneof(fc.integer(), fc.string(), fc.constant([])),
    object: fc.oneof(fc.integer(), fc.string(), fc.boolean()),
  };
  return byType[value === null ? 'number' : Array.isArray(value) ? 'object' : typeof value] ?? fc.string();
}

function getAt(root: unknown, path: Path): unknown {
  return path.reduce<unknown>((node, key) => (node as Record<string | number, unknown>)[key], root);
}
function withAt(root: unknown, path: Path, change: (parent: Record<string | number, unknown>, key: string | number) => void): unknown {
  const copy = structuredClone(root);
  const parent = getAt(copy, path.slice(0, -1)) as Record<string | number, unknown>;
  change(parent, path[path.length - 1]!);
  return copy;
}

function brokenPayloads(sample: RouteSample): fc.Arbitrary<unknown> {
  const objectFields = [[] as Path, ...sample.fields.map((f) => f.path).filter((p) => {
    const v = getAt(sample.valid, p);
    return typeof v === 'object' && v !== null && !Array.isArray(v);
  })];
  const strategies: fc.Arbitrary<unknown>[] = [
    // Not an object at all.
    fc.oneof(fc.integer(), fc.string(), fc.boolean(), fc.constant(null), fc.array(fc.anything(), { maxLength: 3 })),
    // An unknown key on the input or on a nested object (the schemas are strict).
    fc.tuple(fc.constantFrom(...objectFields), fc.string({ minLength: 1, maxLength: 10 }), fc.jsonValue()).map(([path, key, value]) => {
      const target = getAt(sample.valid, path) as Record<string, unknown>;
      const name = key in target ? `${key}_extra` : `x_${key}`;
      return withAt({ root: sample.valid }, ['root', ...path, name], (parent, k) => { parent[k] = value; });
    }).map((wrapped) => (wrapped as { root: unknown }).root),
  ];
  const fields = sample.fields;
  // A field of the wrong type.
  strategies.push(fc.constantFrom(...fields).chain((field) =>
    otherType(getAt(sample.valid, field.path)).map((value) => withAt(sample.valid, field.path, (p, k) => { p[k] = value; }))));
  // A required field missing.
  const required = fields.filter((f) => f.required && typeof f.path[f.path.length - 1] === 'string');
  if (required.length > 0) {
    strategies.push(fc.constantFrom(...required).map((field) => withAt(sample.valid, field.path, (p, k) => { delete p[k]; })));
  }
  // A field out of its range or pattern.
  const ranged = fields.filter((f) => f.bad);
  if (ranged.length > 0) {
    strategies.push(fc.constantFrom(...ranged).chain((field) =>
      field.bad!.map((value) => withAt(sample.valid, field.path, (p, k) => { p[k] = value; }))));
  }
  return fc.oneof(...strategies);
}

interface Request {
  route: unknown;
  input: unknown;
}

const invalidRequest: fc.Arbitrary<Request> = fc.oneof(
  // Routes that take nothing, given something.
  fc.tuple(fc.constantFrom(...ROUTE_NAMES.filter((r) => samples[r] === 'no-input')), fc.anything().filter((v) => v !== undefined))
    .map(([route, input]) => ({ route, input })),
  // Routes with input, given broken input.
  ...ROUTE_NAMES.filter((r) => samples[r] !== 'no-input').map((route) =>
    brokenPayloads(samples[route] as RouteSample).map((input) => ({ route, input }))),
  ...imageSamples.map((sample) => brokenPayloads(sample).map((input) => ({ route: 'jobs.submit', input }))),
  // Routes that do not exist.
  fc.record({
    route: fc.oneof(fc.string().filter((s) => !(ROUTE_NAMES as readonly string[]).includes(s)), fc.integer(), fc.constant(null), fc.object()),
    input: fc.anything(),
  }),
);

let t: TestCore;
before(() => {
  t = openTestCore();
});
after(() => t.close());

test('the valid samples pass their schemas (so the broken ones are broken by their mutation alone)', () => {
  for (const [route, sample] of Object.entries(samples)) {
    if (sample === 'no-input') continue;
    const parsed = routes[route as RouteName].input.safeParse(sample.valid);
    assert.ok(parsed.success, `${route}: ${JSON.stringify(parsed.error?.issues)}`);
  }
  for (const sample of imageSamples) {
    const parsed = routes['jobs.submit'].input.safeParse(sample.valid);
    assert.ok(parsed.success, JSON.stringify(parsed.error?.issues));
  }
});

test('1,000 random invalid payloads: each a typed VALIDATION error, no handler runs', async () => {
  const real = createHandlers(t.core);
  const calls: string[] = [];
  const counted = Object.fromEntries(
    Object.entries(real).map(([route, handler]) => [route, (input: never) => { calls.push(route); return (handler as (i: never) => unknown)(input); }]),
  ) as unknown as HandlerTable;
  const funnel = createFunnel(counted, { trustSender: () => true });

  let runs = 0;
  const seenRoutes = new Set<string>();
  await fc.assert(
    fc.asyncProperty(invalidRequest, async ({ route, input }) => {
      runs++;
      // Not String(route): a generated object may own a `toString` that is not a function, and String()
      // throws on it (seed 502654873), which the funnel itself must and does survive.
      const label = typeof route === 'string' ? route : `<${typeof route}>`;
      seenRoutes.add(label);
      const result = await funnel(route, input, {});
      assert.equal(result.ok, false, `accepted ${label} ${JSON.stringify(input)}`);
      if (result.ok) return;
      assert.ok(ApiErrorShape.safeParse(result.error).success);
      assert.equal(result.error.code, 'VALIDATION', `${label}: ${result.error.message}`);
      assert.ok(result.error.message.length > 0);
      if (typeof route === 'string' && (ROUTE_NAMES as readonly string[]).includes(route)) {
        const issues = (result.error.details as { issues?: unknown[] } | undefined)?.issues;
        assert.ok(Array.isArray(issues) && issues.length > 0, 'schema errors name their issues');
      }
    }),
    { numRuns: 1000, seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31) },
  );
  assert.equal(runs, 1000);
  assert.deepEqual(calls, [], 'no handler ran');
  // The generator reached every route that takes input.
  for (const route of ROUTE_NAMES) if (samples[route] !== 'no-input') assert.ok(seenRoutes.has(route), route);
});

test('random valid history queries never fail inside the core', async () => {
  const funnel = createFunnel(createHandlers(t.core), { trustSender: () => true });
  const text = fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' }).filter((s) => s.trim().length > 0);
  const query = fc.record(
    {
      text,
      favourite: fc.boolean(),
      model: fc.string({ maxLength: 20 }),
      kind: fc.constantFrom('t2i', 'edit', 'inpaint', 'variation'),
      tag: fc.string({ minLength: 1, maxLength: 20 }).filter((s) => s.trim().length > 0),
      from: fc.integer({ min: 0, max: 2 ** 42 }),
      to: fc.integer({ min: 0, max: 2 ** 42 }),
      limit: fc.integer({ min: 1, max: 500 }),
    },
    { requiredKeys: [] },
  );
  await fc.assert(
    fc.asyncProperty(fc.oneof(
      query.map((input) => ({ route: 'history.list', input })),
      fc.record({ text, limit: fc.integer({ min: 1, max: 500 }) }).map((input) => ({ route: 'history.search', input })),
    ), async ({ route, input }) => {
      const result = await funnel(route, input, {});
      assert.ok(result.ok, `${route} ${JSON.stringify(input)} → ${JSON.stringify(result)}`);
    }),
    { numRuns: 300 },
  );
});
