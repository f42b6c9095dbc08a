// Logits processors and the categorical sampler against a brute-force computation written
// independently (array of {id, p} objects, plain sorts and loops), on random logits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import {
  ImageCodeMask,
  Temperature,
  TopK,
  applyProcessors,
  mixGuidance,
  nucleusDistribution,
  pairwiseSum,
  sampleToken,
  Rng,
} from '../../../src-main/engine/sampler';

interface Ref {
  ids: number[];
  probs: number[];
}

/** The spec's step 2, written the slow obvious way. */
function bruteForce(logits: number[], offset: number, size: number, temperature: number, topK: number, topP: number): Ref {
  let cands = logits.map((v, id) => ({ id, s: v / temperature })).filter((c) => c.id >= offset && c.id < offset + size);
  if (topK > 0) cands = [...cands].sort((a, b) => (b.s !== a.s ? b.s - a.s : a.id - b.id)).slice(0, topK);
  const max = Math.max(...cands.map((c) => c.s));
  const exps = cands.map((c) => ({ id: c.id, e: Math.exp(c.s - max) }));
  const z = exps.reduce((n, c) => n + c.e, 0);
  const sorted = exps.map((c) => ({ id: c.id, p: c.e / z })).sort((a, b) => (b.p !== a.p ? b.p - a.p : a.id - b.id));
  const kept: typeof sorted = [];
  let cum = 0;
  for (const c of sorted) {
    kept.push(c);
    cum += c.p;
    if (cum >= topP) break;
  }
  const mass = kept.reduce((n, c) => n + c.p, 0);
  return { ids: kept.map((c) => c.id), probs: kept.map((c) => c.p / mass) };
}

function refPick(ref: Ref, u: number): { id: number; margin: number } {
  let cum = 0;
  let margin = Infinity;
  for (let i = 0; i < ref.ids.length; i++) {
    cum += ref.probs[i]!;
    margin = Math.min(margin, Math.abs(cum - u));
    if (cum > u) return { id: ref.ids[i]!, margin };
  }
  return { id: ref.ids[ref.ids.length - 1]!, margin };
}

function processed(logits: number[], offset: number, size: number, temperature: number, topK: number): Float64Array {
  const scores = Float64Array.from(logits);
  applyProcessors(scores, [new ImageCodeMask(offset, size), new Temperature(temperature), new TopK(topK)]);
  return scores;
}

test('image-code mask keeps exactly the code range', () => {
  const s = Float64Array.from({ length: 12 }, (_, i) => i);
  new ImageCodeMask(4, 5).process(s);
  assert.deepEqual([...s], [-Infinity, -Infinity, -Infinity, -Infinity, 4, 5, 6, 7, 8, -Infinity, -Infinity, -Infinity]);
  assert.throws(() => new ImageCodeMask(10, 5).process(s), /do not fit/);
});

test('top-k keeps the k largest, ties to the lower id', () => {
  const s = Float64Array.from([1, 3, 3, 0, 3, 2]);
  new TopK(2).process(s);
  assert.deepEqual([...s], [-Infinity, 3, 3, -Infinity, -Infinity, -Infinity]);
  const all = Float64Array.from([1, 2]);
  new TopK(0).process(all);
  assert.deepEqual([...all], [1, 2]);
});

test('guidance mixes u + s·(c − u)', () => {
  const c = Float64Array.from([1, 2, 3]);
  mixGuidance(c, Float64Array.from([0, 2, 5]), 3);
  assert.deepEqual([...c], [3, 2, -1]);
});

test('temperature 0 is argmax with ties to the lowest id, whatever u', () => {
  const scores = processed([0, 5, 1, 5, 2], 1, 4, 0, 0);
  for (const u of [0, 0.5, 0.999]) assert.equal(sampleToken(scores, u, { temperature: 0, topP: 0.5 }), 1);
});

test('pairwiseSum agrees with a plain sum to rounding and is exact on integers', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 700 }), (xs) => {
      assert.equal(pairwiseSum(xs), xs.reduce((a, b) => a + b, 0));
    }),
  );
});

test('distribution and sampled token match the brute-force computation on random logits', () => {
  const rng = new Rng(2024, 3);
  let checked = 0;
  for (let trial = 0; trial < 400; trial++) {
    const vocab = 8 + Math.floor(rng.uniform() * 300);
    const offset = Math.floor(rng.uniform() * 5);
    const size = Math.max(1, vocab - offset - Math.floor(rng.uniform() * 3));
    // Quantised logits make exact ties common, which exercises the id tie-breaks.
    const logits = Array.from({ length: vocab }, () => Math.round((rng.normal() * 3) * 4) / 4);
    const temperature = [0.5, 1, 1.7][trial % 3]!;
    const topK = [0, 1, 5, 40][trial % 4]!;
    const topP = [1, 0.9, 0.5, 0.05][Math.floor(trial / 4) % 4]!;
    const ref = bruteForce(logits, offset, size, temperature, topK, topP);
    const scores = processed(logits, offset, size, temperature, topK);
    const candidates = [...scores.keys()].filter((i) => scores[i]! > -Infinity);
    if (topK > 0 && topK <= candidates.length) candidates.sort((a, b) => scores[b]! - scores[a]! || a - b);
    const dist = nucleusDistribution(scores, topP, candidates);
    assert.deepEqual(dist.ids, ref.ids, `trial ${trial}`);
    dist.probs.forEach((p, i) => assert.ok(Math.abs(p - ref.probs[i]!) < 1e-12));
    for (let k = 0; k < 5; k++) {
      const u = rng.uniform();
      const expected = refPick(ref, u);
      if (expected.margin < 1e-9) continue; // too close to a boundary for a rounding-independent answer
      assert.equal(sampleToken(scores, u, { temperature, topP, topK }), expected.id);
      checked++;
    }
  }
  assert.ok(checked > 1500);
});

test('empirical frequencies follow the nucleus distribution', () => {
  const logits = [0.2, 1.5, -0.3, 0.9, 2.2, 0.0];
  const scores = processed(logits, 0, 6, 1, 0);
  const ref = bruteForce(logits, 0, 6, 1, 0, 0.8);
  const rng = new Rng(1, 0);
  const counts = new Map<number, number>();
  const n = 40000;
  for (let i = 0; i < n; i++) {
    const t = sampleToken(scores, rng.uniform(), { temperature: 1, topP: 0.8 });
    counts.set(t, (counts.get(t) ?? 0) + 1);
  }
  assert.deepEqual([...counts.keys()].sort(), [...ref.ids].sort(), 'only nucleus tokens are drawn');
  ref.ids.forEach((id, i) => assert.ok(Math.abs(counts.get(id)! / n - ref.probs[i]!) < 0.01));
});

const fixture = new URL('../../fixtures/reference/sampler.json', import.meta.url);
test('matches the Python reference sampler cases (tests/fixtures/reference/sampler.json)', { skip: !existsSync(fixture) && 'no reference fixtures' }, () => {
  const cases = JSON.parse(readFileSync(fixture, 'utf8')) as {
    logits: number[];
    code_offset: number;
    codebook_size: number;
    temperature: number;
    top_k: number;
    top_p: number;
    u: number;
    token: number;
    kept_ids?: number[];
    kept_probs?: number[];
  }[];
  assert.ok(cases.length > 0);
  for (const c of cases) {
    const scores = processed(c.logits, c.code_offset, c.codebook_size, c.temperature, c.top_k);
    assert.equal(sampleToken(scores, c.u, { temperature: c.temperature, topP: c.top_p, topK: c.top_k }), c.token);
    if (c.kept_ids && c.temperature > 0) {
      const candidates = [...scores.keys()].filter((i) => scores[i]! > -Infinity);
      if (c.top_k > 0 && c.top_k <= candidates.length) candidates.sort((a, b) => scores[b]! - scores[a]! || a - b);
      const dist = nucleusDistribution(scores, c.top_p, candidates);
      assert.deepEqual(dist.ids, c.kept_ids);
      assert.deepEqual([...dist.probs], c.kept_probs, 'bit-identical probabilities');
    }
  }
});
