// The engine's Rng against an independent BigInt implementation written straight from the spec's
// formulas (exact integer arithmetic, no Math.imul / >>> tricks), and against the Python reference's
// recorded draws when the fixtures are present.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { Rng, seedToUint32 } from '../../../src-main/engine/sampler/rng';

const M = (1n << 32n) - 1n;
const GOLDEN = 0x9e3779b9n;

function refSplitmix(s: bigint): [bigint, bigint] {
  s = (s + GOLDEN) & M;
  let z = s;
  z = ((z ^ (z >> 16n)) * 0x85ebca6bn) & M;
  z = ((z ^ (z >> 13n)) * 0xc2b2ae35n) & M;
  z = z ^ (z >> 16n);
  return [s, z];
}

const rotl = (x: bigint, k: bigint): bigint => ((x << k) | (x >> (32n - k))) & M;

class RefRng {
  s: bigint[] = [];
  constructor(seed: bigint, stream: bigint) {
    let sm = (seed ^ (stream * GOLDEN)) & M;
    for (let i = 0; i < 4; i++) {
      const [n, z] = refSplitmix(sm);
      sm = n;
      this.s.push(z);
    }
  }
  next(): bigint {
    const s = this.s;
    const r = (rotl((s[1]! * 5n) & M, 7n) * 9n) & M;
    const t = (s[1]! << 9n) & M;
    s[2] = s[2]! ^ s[0]!;
    s[3] = s[3]! ^ s[1]!;
    s[1] = s[1]! ^ s[2]!;
    s[0] = s[0]! ^ s[3]!;
    s[2] = s[2]! ^ t;
    s[3] = rotl(s[3]!, 11n);
    return r;
  }
  uniform(): number {
    const a = this.next() >> 5n;
    const b = this.next() >> 6n;
    // Exact 53-bit integer, then one division by 2^53 (exact in float64).
    return Number((a << 26n) + b) / 2 ** 53;
  }
}

test('raw outputs match the BigInt reference for many seeds and streams', () => {
  const seeds = [0, 1, 7, 42, 0x7fffffff, 0x80000000, 0xffffffff, 123456789, 2 ** 40 + 5];
  for (const seed of seeds) {
    for (const stream of [0, 1, 2, 17]) {
      const a = new Rng(seed, stream);
      const b = new RefRng(BigInt(seed), BigInt(stream));
      for (let i = 0; i < 200; i++) assert.equal(a.nextUint32(), Number(b.next()), `seed ${seed} stream ${stream} draw ${i}`);
    }
  }
});

test('uniform() uses two outputs, has 53 bits and stays in [0, 1)', () => {
  const a = new Rng(99, 0);
  const b = new RefRng(99n, 0n);
  let min = 1;
  let max = 0;
  for (let i = 0; i < 5000; i++) {
    const u = a.uniform();
    assert.equal(u, b.uniform());
    min = Math.min(min, u);
    max = Math.max(max, u);
  }
  assert.ok(min >= 0 && max < 1);
  assert.ok(min < 0.01 && max > 0.99, 'spread over the interval');
});

test('normal() is the Box-Muller cosine branch of two uniforms, rounded to float32', () => {
  const a = new Rng(5, 1);
  const b = new RefRng(5n, 1n);
  let sum = 0;
  let sq = 0;
  const n = 20000;
  for (let i = 0; i < n; i++) {
    const u1 = b.uniform();
    const u2 = b.uniform();
    const expected = Math.fround(Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2));
    const v = a.normal();
    assert.equal(v, expected);
    sum += v;
    sq += v * v;
  }
  assert.ok(Math.abs(sum / n) < 0.03, `mean ${sum / n}`);
  assert.ok(Math.abs(sq / n - 1) < 0.05, `variance ${sq / n}`);
});

test('seeds reduce modulo 2^32; negative or fractional seeds are refused', () => {
  assert.equal(seedToUint32(2 ** 32 + 3), 3);
  assert.equal(new Rng(2 ** 32 + 3).nextUint32(), new Rng(3).nextUint32());
  assert.throws(() => new Rng(-1), /non-negative integer/);
  assert.throws(() => new Rng(1.5), /non-negative integer/);
});

const fixture = new URL('../../fixtures/reference/rng.json', import.meta.url);
test('matches the Python reference draws (tests/fixtures/reference/rng.json)', { skip: !existsSync(fixture) && 'no reference fixtures' }, () => {
  const cases = JSON.parse(readFileSync(fixture, 'utf8')) as { seed: number; stream: number; u32: number[]; uniform: number[]; normal: number[] }[];
  assert.ok(cases.length > 0);
  for (const c of cases) {
    const r1 = new Rng(c.seed, c.stream);
    assert.deepEqual(c.u32.map(() => r1.nextUint32()), c.u32);
    const r2 = new Rng(c.seed, c.stream);
    assert.deepEqual(c.uniform.map(() => r2.uniform()), c.uniform);
    const r3 = new Rng(c.seed, c.stream);
    assert.deepEqual(c.normal.map(() => r3.normal()), c.normal);
  }
});
