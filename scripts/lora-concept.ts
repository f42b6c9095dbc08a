// `node --import tsx scripts/lora-concept.ts [--model DIR --emoji 1F9A5 --name sloth --images 20 --steps 300]`
// The concept check of issue 7: does a LoRA trained on ~20 images of a concept the model never saw
// move generations toward it at weight 1 and not at weight 0?
// Concept: one Noto emoji (node_modules/emoji-datasource-google, Apache-2.0) that the data engine does
// not use (checked against modeling/data/objects.py), pasted at random sizes and places on plain
// coloured backgrounds; captions "<trigger> <name> on a <colour> background".
// Distance: for each generated image, the mean squared RGB difference (pixels in [0, 1], both images
// box-downsampled to 16×16) to the NEAREST training image; lower = closer to the concept. Reported at
// weight 0 and 1 with the same prompts and seeds, and the share of seeds where weight 1 is closer.
// Only meaningful on a trained model (resources/models/atelier-nano); on the random-init fixture it
// only exercises the pipeline. JSON on stdout.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { loadBundle } from '../src-main/engine';
import { readLoraFile, runTraining } from '../src-main/trainer';
import { Rng } from '../src-main/engine/sampler/rng';

const root = fileURLToPath(new URL('..', import.meta.url));
const NANO = path.join(root, 'resources/models/atelier-nano');
const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    emoji: { type: 'string', default: '1F9A5' },
    name: { type: 'string', default: 'sloth' },
    trigger: { type: 'string', default: 'zqx' },
    images: { type: 'string', default: '20' },
    steps: { type: 'string', default: '300' },
    rank: { type: 'string', default: '8' },
    lr: { type: 'string', default: '1e-3' },
    seeds: { type: 'string', default: '8' },
    threads: { type: 'string', default: '2' },
    keep: { type: 'string' },
    condition: { type: 'string', default: 'own-codes' },
  },
});
const model = values.model ?? NANO;
if (!existsSync(path.join(model, 'bundle.json'))) throw new Error(`no model at ${model} (the check needs the trained nano model)`);
const objects = readFileSync(path.join(root, 'modeling/data/objects.py'), 'utf8');
if (objects.toLowerCase().includes(`"${values.name!.toLowerCase()}"`)) throw new Error(`the data engine uses ${values.name}: pick an emoji it never saw`);
const emojiFile = path.join(root, 'node_modules/emoji-datasource-google/img/google/64', `${values.emoji!.toLowerCase()}.png`);
const COLOURS: [string, [number, number, number]][] = [['white', [245, 245, 245]], ['blue', [40, 80, 200]], ['green', [40, 160, 70]], ['yellow', [235, 210, 60]], ['pink', [235, 130, 180]], ['grey', [128, 128, 128]], ['orange', [240, 140, 40]], ['purple', [130, 60, 170]]];

const work = values.keep ?? mkdtempSync(path.join(os.tmpdir(), 'atelier-concept-'));
const SMALL = 16;
async function small(png: Uint8Array | string): Promise<Float32Array> {
  const { data } = await sharp(png).removeAlpha().resize(SMALL, SMALL, { fit: 'fill', kernel: 'cubic' }).raw().toBuffer({ resolveWithObject: true });
  return Float32Array.from(data, (v) => v / 255);
}
const mse = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + (v - b[i]!) ** 2, 0) / a.length;

try {
  const manifest = JSON.parse(readFileSync(path.join(model, 'bundle.json'), 'utf8')) as { image: { width: number; height: number } };
  const W = manifest.image.width;
  const ds = path.join(work, 'data');
  mkdirSync(ds, { recursive: true });
  const rng = new Rng(2026, 0);
  const train: Float32Array[] = [];
  for (let i = 0; i < Number(values.images); i++) {
    const [colour, rgb] = COLOURS[i % COLOURS.length]!;
    const size = Math.round(W * (0.45 + 0.35 * rng.uniform()));
    const left = Math.floor(rng.uniform() * (W - size + 1));
    const top = Math.floor(rng.uniform() * (W - size + 1));
    const sprite = await sharp(emojiFile).resize(size, size).png().toBuffer();
    const png = await sharp({ create: { width: W, height: W, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } })
      .composite([{ input: sprite, left, top }])
      .png()
      .toBuffer();
    writeFileSync(path.join(ds, `${i}.png`), png);
    writeFileSync(path.join(ds, `${i}.txt`), `${values.name} on a ${colour} background`);
    train.push(await small(png));
  }
  const out = path.join(work, 'concept.safetensors');
  const t0 = performance.now();
  const r = await runTraining({
    bundleDir: model,
    datasetDir: ds,
    runDir: path.join(work, 'run'),
    output: out,
    threads: Number(values.threads),
    settings: { steps: Number(values.steps), rank: Number(values.rank), alpha: Number(values.rank), learningRate: Number(values.lr), trigger: values.trigger, batch: 2, sampleEvery: 0, checkpointEvery: 100, condition: values.condition as 'own-codes' | 'sampled' },
  });
  const trainSeconds = (performance.now() - t0) / 1000;
  const engine = await loadBundle(model, { executionProvider: 'cpu', threads: Number(values.threads) });
  const lora = readLoraFile(engine.manifest, out);
  const rows: { prompt: string; seed: number; d0: number; d1: number }[] = [];
  try {
    for (let s = 0; s < Number(values.seeds); s++) {
      const prompt = `${values.trigger}, ${values.name} on a ${COLOURS[s % COLOURS.length]![0]} background`;
      const dist = async (weight: number) => {
        const g = await engine.textToImage({ prompt, seed: 100 + s, loras: [{ weights: lora, weight }] });
        if (values.keep) writeFileSync(path.join(work, `gen-${100 + s}-w${weight}.png`), g.images[0]!.png);
        const x = await small(g.images[0]!.png);
        return Math.min(...train.map((t) => mse(x, t)));
      };
      rows.push({ prompt, seed: 100 + s, d0: await dist(0), d1: await dist(1) });
    }
  } finally {
    await engine.dispose();
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  process.stdout.write(
    JSON.stringify(
      {
        model,
        concept: { emoji: values.emoji, name: values.name, images: Number(values.images), trigger: values.trigger },
        training: { condition: values.condition, steps: r.step, seconds: Math.round(trainSeconds), loss_first: r.losses[0], loss_last: r.losses.at(-1), steps_per_second: r.stepsPerSecond },
        distance: 'mean squared RGB difference at 16x16 to the nearest training image (lower = closer)',
        weight0: mean(rows.map((x) => x.d0)),
        weight1: mean(rows.map((x) => x.d1)),
        closer_at_weight1: rows.filter((x) => x.d1 < x.d0).length / rows.length,
        rows,
      },
      null,
      2,
    ) + '\n',
  );
} finally {
  if (!values.keep) rmSync(work, { recursive: true, force: true });
}
