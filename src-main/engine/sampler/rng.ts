// The seeded random source of bundle-spec.md ("Random numbers"): xoshiro128** seeded through
// splitmix32. All arithmetic is on uint32 words; Math.imul gives the exact low 32 bits of a product,
// which plain `*` on doubles would not once the product passes 2^53.

const GOLDEN = 0x9e3779b9;
const TWO_POW_26 = 67108864;
const TWO_POW_53 = 9007199254740992;

/** Reduces any non-negative integer seed (up to 2^53) to its low 32 bits. */
export function seedToUint32(seed: number): number {
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new RangeError(`seed must be a non-negative integer (got ${seed})`);
  }
  return seed % 4294967296;
}

/** One splitmix32 step: advances the state and returns [newState, output]. */
export function splitmix32(state: number): [number, number] {
  const s = (state + GOLDEN) >>> 0;
  let z = s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z = (z ^ (z >>> 16)) >>> 0;
  return [s, z];
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** `stream` separates independent uses of one seed (0: AR sampling, 1: latent noise). */
  constructor(seed: number, stream = 0) {
    let state = (seedToUint32(seed) ^ Math.imul(stream, GOLDEN)) >>> 0;
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      const [next, out] = splitmix32(state);
      state = next;
      words.push(out);
    }
    [this.s0, this.s1, this.s2, this.s3] = words as [number, number, number, number];
  }

  /** Next raw xoshiro128** output as a uint32. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** A double in [0, 1) with 53 random bits, from two successive outputs. */
  uniform(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * TWO_POW_26 + b) / TWO_POW_53;
  }

  /** A standard normal draw (Box-Muller, cosine branch) rounded to float32. */
  normal(): number {
    const u1 = this.uniform();
    const u2 = this.uniform();
    return Math.fround(Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2));
  }

  /** `count` normal draws as a Float32Array (C-order fill). */
  normals(count: number): Float32Array {
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = this.normal();
    return out;
  }
}
