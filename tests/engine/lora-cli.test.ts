// `atelier train-lora` and `atelier generate --lora file:weight` on the fixture bundle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { main } from '../../src-main/cli/index';
import { parseLoraSpec } from '../../src-main/cli/train-lora';
import { FIXTURE_BUNDLE } from './helpers';

async function pixels(file: string): Promise<Buffer> {
  return sharp(file).raw().toBuffer();
}

test('train-lora writes a LoRA with progress; generate --lora applies it (weight 0 = none); bad files are named', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'atelier-lora-cli-'));
  try {
    const ds = path.join(root, 'data');
    mkdirSync(ds);
    for (let i = 0; i < 3; i++) {
      writeFileSync(path.join(ds, `p${i}.png`), await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: 250, g: 20 * i, b: 10 } } }).png().toBuffer());
      writeFileSync(path.join(ds, `p${i}.txt`), 'a red square');
    }
    const out = path.join(root, 'my.safetensors');
    const lines: string[] = [];
    await main(['train-lora', ds, '--steps', '8', '--rank', '2', '--lr', '0.05', '--warmup', '1', '--trigger', 'qqz', '--model', FIXTURE_BUNDLE, '--threads', '1', '--checkpoint-every', '4', '-o', out], (s) => lines.push(s));
    assert.ok(existsSync(out));
    assert.ok(existsSync(path.join(root, 'my.lora-run', 'checkpoints', 'step-000008.safetensors')));
    assert.ok(lines.some((l) => /^train .*8\/8 {2}loss \d/.test(l)), lines.join('\n'));
    assert.ok(lines.some((l) => l.startsWith(`wrote ${out}`)));

    const gen = async (name: string, extra: string[]) => {
      const png = path.join(root, name);
      await main(['generate', 'qqz, a red square', '--model', FIXTURE_BUNDLE, '--seed', '4', '--steps', '3', '--threads', '1', '--quiet', '-o', png, ...extra], () => undefined);
      return pixels(png);
    };
    const plain = await gen('plain.png', []);
    assert.deepEqual(await gen('zero.png', ['--lora', `${out}:0`]), plain);
    assert.notDeepEqual(await gen('one.png', ['--lora', `${out}:1`]), plain);
    assert.notDeepEqual(await gen('two.png', ['--lora', out, '--lora', `${out}:-0.5`]), plain);

    writeFileSync(path.join(root, 'junk.safetensors'), 'not a lora');
    await assert.rejects(gen('bad.png', ['--lora', path.join(root, 'junk.safetensors')]), /junk\.safetensors.*(not a \.safetensors|unreadable)/);
    await assert.rejects(gen('missing.png', ['--lora', path.join(root, 'nope.safetensors')]), /cannot read the LoRA file .*nope\.safetensors: no such file/);
    await assert.rejects(main(['train-lora', ds, '--model', FIXTURE_BUNDLE], () => undefined), /needs -o/);
    await assert.rejects(main(['train-lora', ds, '-o', out, '--rank', 'x', '--model', FIXTURE_BUNDLE], () => undefined), /--rank must be an integer/);
    assert.ok(readFileSync(out).length > 0);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('--lora parses file:weight with the weight after the last colon', () => {
  assert.deepEqual(parseLoraSpec('a.safetensors:0.8'), { file: 'a.safetensors', weight: 0.8 });
  assert.deepEqual(parseLoraSpec('a.safetensors'), { file: 'a.safetensors', weight: 1 });
  assert.deepEqual(parseLoraSpec('C:\\x\\a.safetensors:-1'), { file: 'C:\\x\\a.safetensors', weight: -1 });
  assert.deepEqual(parseLoraSpec('C:\\x\\a.safetensors'), { file: 'C:\\x\\a.safetensors', weight: 1 });
});
