// Pure parts of the LoRA trainer: the safetensors container, atomic writes, AdamW, the schedule,
// clipping, the draws (a function of seed and step only) and trigger words.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeSafetensors, encodeSafetensors, SafetensorsError } from '../../../src-main/trainer/safetensors';
import { DiskWriteError, realIo, writeFileAtomic } from '../../../src-main/trainer/atomic-write';
import { AdamW, clipGradNorm, learningRate } from '../../../src-main/trainer/optimizer';
import { batchItems, initialLora, stepDraws } from '../../../src-main/trainer/draws';
import { withTrigger } from '../../../src-main/trainer/dataset';
import { resolveSettings, SettingsError } from '../../../src-main/trainer/settings';

test('safetensors: round trip with metadata, 8-byte aligned data, corruption refused', () => {
  const a = Float32Array.of(1, -2.5, 3e-8, 4);
  const bytes = encodeSafetensors([['w', { shape: [2, 2], data: a }], ['s', { shape: [], data: Float32Array.of(7) }]], { ss_network_dim: '4' });
  const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal((8 + headerLen) % 8, 0);
  const back = decodeSafetensors(bytes);
  assert.deepEqual(back.tensors.get('w')!.data, a);
  assert.deepEqual(back.tensors.get('s')!.shape, []);
  assert.equal(back.metadata['ss_network_dim'], '4');
  assert.throws(() => decodeSafetensors(bytes.subarray(0, bytes.length - 3), 'x.safetensors'), (e: unknown) => e instanceof SafetensorsError && /x\.safetensors.*(truncated|outside|covered)/.test((e as Error).message));
  assert.throws(() => decodeSafetensors(new TextEncoder().encode('hello world, not a tensor file'), 'y'), SafetensorsError);
});

test('atomic write: replaces whole files; a failing write leaves the old file and no temp file', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'atelier-atomic-'));
  try {
    const file = path.join(dir, 'a.bin');
    writeFileSync(file, 'old');
    writeFileAtomic(file, new TextEncoder().encode('new contents'));
    assert.equal(readFileSync(file, 'utf8'), 'new contents');
    let calls = 0;
    const failing = {
      write(fd: number, d: Uint8Array, p: number) {
        if (++calls > 1) throw Object.assign(new Error('no space'), { code: 'ENOSPC' });
        return realIo.write(fd, d, p);
      },
    };
    assert.throws(() => writeFileAtomic(file, new Uint8Array(3 << 20), failing), (e: unknown) => e instanceof DiskWriteError && e.code === 'ENOSPC' && /disk is full/.test((e as Error).message));
    assert.equal(readFileSync(file, 'utf8'), 'new contents');
    assert.deepEqual(readdirSync(dir), ['a.bin']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('AdamW follows the PyTorch update rule (hand-computed first two steps)', () => {
  const p = [Float32Array.of(1, -1)];
  const opt = new AdamW([2], { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1 });
  opt.step(p, [Float32Array.of(0.5, -2)], 0.01);
  // Step 1: m̂ = g, v̂ = g², so the move is lr·g/(|g| + eps) after decay p·(1 − lr·wd).
  assert.ok(Math.abs(p[0]![0]! - (1 * (1 - 0.001) - 0.01 * (0.5 / (0.5 + 1e-8)))) < 1e-7);
  assert.ok(Math.abs(p[0]![1]! - (-1 * (1 - 0.001) + 0.01 * (2 / (2 + 1e-8)))) < 1e-7);
  const before = p[0]![0]!;
  opt.step(p, [Float32Array.of(0.5, -2)], 0.01);
  const m = 0.1 * 0.5 * 0.9 + 0.1 * 0.5;
  const v = 0.001 * 0.25 * 0.999 + 0.001 * 0.25;
  const want = before * (1 - 0.001) - (0.01 / (1 - 0.81)) * (m / (Math.sqrt(v) / Math.sqrt(1 - 0.999 ** 2) + 1e-8));
  assert.ok(Math.abs(p[0]![0]! - want) < 1e-6);
  assert.equal(opt.t, 2);
});

test('schedule: linear warm-up then cosine to zero, or constant; clipping scales to the max norm', () => {
  assert.equal(learningRate(0, 100, 1, 4, 'cosine'), 0.25);
  assert.equal(learningRate(3, 100, 1, 4, 'cosine'), 1);
  assert.equal(learningRate(4, 100, 1, 4, 'cosine'), 1);
  assert.ok(learningRate(99, 100, 1, 4, 'cosine') < 0.001);
  assert.equal(learningRate(50, 100, 1, 4, 'constant'), 1);
  const g = [Float32Array.of(3, 0), Float32Array.of(4)];
  assert.equal(clipGradNorm(g, 1), 5);
  assert.ok(Math.abs(Math.hypot(g[0]![0]!, g[1]![0]!) - 1) < 1e-5);
  const small = [Float32Array.of(0.3)];
  clipGradNorm(small, 1);
  assert.equal(small[0]![0], Math.fround(0.3));
});

test('draws depend only on (seed, step); epochs visit every item once; LoRA init makes a no-op', () => {
  const a = stepDraws(5, 7, 3, 16, 0.5);
  const b = stepDraws(5, 7, 3, 16, 0.5);
  assert.deepEqual(a, b);
  assert.notDeepEqual(stepDraws(5, 8, 3, 16, 0.5), a);
  const order = Array.from({ length: 4 }, (_, s) => batchItems(1, s, 3, 6)).flat();
  assert.deepEqual([...order.slice(0, 6)].sort(), [0, 1, 2, 3, 4, 5]);
  assert.deepEqual([...order.slice(6, 12)].sort(), [0, 1, 2, 3, 4, 5]);
  const init = initialLora(1, [{ in: 8, out: 4 }], 2);
  assert.ok(init.up[0]!.every((v) => v === 0));
  assert.ok(init.down[0]!.every((v) => Math.abs(v) <= 1 / Math.sqrt(8)) && init.down[0]!.some((v) => v !== 0));
});

test('trigger words and settings checks', () => {
  assert.equal(withTrigger('a dog on grass', 'sks'), 'sks, a dog on grass');
  assert.equal(withTrigger('photo of SKS dog', 'sks'), 'photo of SKS dog');
  assert.equal(withTrigger('', 'sks'), 'sks');
  assert.equal(withTrigger(' x ', undefined), 'x');
  assert.throws(() => resolveSettings({ rank: 64 }, { maxRank: 16, graphBatch: 1 }), (e: unknown) => e instanceof SettingsError && /rank must be an integer in 1…16/.test((e as Error).message));
  assert.throws(() => resolveSettings({ batch: 3, learningRate: 2 }, { maxRank: 16, graphBatch: 2 }), /learningRate.*batch must be a multiple/);
  assert.equal(resolveSettings({ steps: 10 }, { maxRank: 16, graphBatch: 1 }).rank, 8);
});
