// The image.* job handlers: called directly with a recording context, and once through the real
// job queue (worker thread) to check they are registered and their results cross the thread boundary.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { handlers, engineFor, releaseCachedEngine, resolveJobImage } from '../../src-main/jobs/handlers/generate';
import type { ImageJobResult } from '../../src-main/jobs/handlers/generate';
import type { JobContext } from '../../src-main/jobs/types';
import { JobQueue } from '../../src-main/jobs';
import { readMetadata } from '../../src-main/engine';
import { FIXTURE_BUNDLE, gradientPng } from './helpers';

after(() => releaseCachedEngine());

function recordingContext(signal = new AbortController().signal) {
  const progress: string[] = [];
  const previews: Uint8Array[] = [];
  const ctx: JobContext = {
    jobId: 'job-test',
    signal,
    progress: (done, total, stage) => progress.push(`${stage} ${done}/${total}`),
    preview: (png) => previews.push(png),
    log: () => undefined,
  };
  return { ctx, progress, previews };
}

const dataUrl = (png: Uint8Array) => `data:image/png;base64,${Buffer.from(png).toString('base64')}`;

test('image.generate reports progress and previews and returns a PNG with metadata', async () => {
  const { ctx, progress, previews } = recordingContext();
  const r = (await handlers['image.generate']!({ prompt: 'a cat', seed: 3, steps: 2, cfg: 2, modelDir: FIXTURE_BUNDLE, executionProvider: 'cpu' } as never, ctx)) as ImageJobResult;
  assert.equal(r.images.length, 1);
  const meta = readMetadata(r.images[0]!.png);
  assert.equal(meta.atelier!.seed, 3);
  assert.equal(meta.atelier!.steps, 2);
  assert.equal(meta.atelier!.cfg_scale, 2);
  assert.equal(r.model.hash, meta.atelier!.model.hash);
  assert.ok(progress.includes('image tokens 16/16') && progress.includes('diffusion 2/2'));
  assert.ok(previews.length >= 2);
});

test('the loaded engine is cached between jobs and replaced when the model settings change', async () => {
  const a = await engineFor({ prompt: '', modelDir: FIXTURE_BUNDLE, executionProvider: 'cpu' });
  const b = await engineFor({ prompt: '', modelDir: FIXTURE_BUNDLE, executionProvider: 'cpu' });
  assert.equal(a, b);
  const c = await engineFor({ prompt: '', modelDir: FIXTURE_BUNDLE, executionProvider: 'cpu', threads: 1 });
  assert.notEqual(a, c);
  await assert.rejects(a.textToImage({ prompt: 'x' }), /disposed/);
});

test('image.inpaint takes PNG data URLs (as the contract sends them) and keeps unmasked pixels', async () => {
  const { ctx } = recordingContext();
  const source = await gradientPng(32, 32);
  const mask = new Uint8Array(32 * 32);
  mask.fill(255, 0, 32 * 8);
  const maskPng = new Uint8Array(await sharp(mask, { raw: { width: 32, height: 32, channels: 1 } }).png().toBuffer());
  const r = (await handlers['image.inpaint']!({ prompt: 'sky', seed: 1, steps: 2, cfg: 1, modelDir: FIXTURE_BUNDLE, executionProvider: 'cpu', source: { png: dataUrl(source) }, mask: dataUrl(maskPng), negativePrompt: 'blur' } as never, ctx)) as ImageJobResult;
  const { data: out } = await sharp(r.images[0]!.png).raw().toBuffer({ resolveWithObject: true });
  const { data: orig } = await sharp(source).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual(out.subarray(32 * 8 * 3), orig.subarray(32 * 8 * 3));
  assert.ok(r.notices.some((n) => /negative prompts are not used/.test(n)));
});

test('image.outpaint grows the canvas by the margins and keeps the source pixels', async () => {
  const { ctx } = recordingContext();
  const source = await gradientPng(24, 24);
  const r = (await handlers['image.outpaint']!({ prompt: 'more', seed: 1, steps: 2, cfg: 1, modelDir: FIXTURE_BUNDLE, executionProvider: 'cpu', source: { png: dataUrl(source) }, left: 4, right: 4, top: 0, bottom: 8 } as never, ctx)) as ImageJobResult;
  assert.deepEqual([r.images[0]!.width, r.images[0]!.height], [32, 32]);
  const { data: out } = await sharp(r.images[0]!.png).raw().toBuffer({ resolveWithObject: true });
  const { data: orig } = await sharp(source).raw().toBuffer({ resolveWithObject: true });
  for (let y = 0; y < 24; y++) assert.deepEqual(out.subarray((y * 32 + 4) * 3, (y * 32 + 28) * 3), orig.subarray(y * 24 * 3, (y + 1) * 24 * 3));
});

test('image.edit honours cancellation through ctx.signal', async () => {
  const ac = new AbortController();
  const { ctx } = recordingContext(ac.signal);
  const wrapped: JobContext = { ...ctx, progress: (d, t, s) => (s === 'diffusion' && d === 1 ? ac.abort() : ctx.progress(d, t, s)) };
  await assert.rejects(handlers['image.edit']!({ prompt: 'blue', seed: 1, steps: 3, cfg: 2, modelDir: FIXTURE_BUNDLE, executionProvider: 'cpu', source: { png: dataUrl(await gradientPng(20, 20)) } } as never, wrapped), (e: Error) => e.name === 'AbortError');
  const engine = await engineFor({ prompt: '', modelDir: FIXTURE_BUNDLE, executionProvider: 'cpu' });
  assert.equal(engine.liveTensors, 0);
});

test('job image references: data URLs, bytes and paths are accepted; unresolved history ids are explained', () => {
  assert.deepEqual(resolveJobImage('data:image/png;base64,AAEC', 'x'), new Uint8Array([0, 1, 2]));
  assert.equal(resolveJobImage({ path: '/a.png' }, 'x'), '/a.png');
  assert.throws(() => resolveJobImage({ generationId: 'g1' }, 'the source image'), /must resolve it to PNG bytes/);
  assert.throws(() => resolveJobImage(undefined, 'the mask'), /the mask is missing/);
});

test('through the real job queue: image.generate runs in the worker and returns PNG bytes', async () => {
  const queue = new JobQueue();
  try {
    const events: string[] = [];
    queue.onEvent((e) => events.push(e.type));
    const id = queue.submit('image.generate', { prompt: 'a cat', seed: 2, steps: 2, cfg: 1, modelDir: FIXTURE_BUNDLE, executionProvider: 'cpu' });
    const result = (await queue.wait(id)) as ImageJobResult;
    assert.ok(result.images[0]!.png instanceof Uint8Array);
    assert.equal(readMetadata(result.images[0]!.png).atelier!.seed, 2);
    assert.ok(events.includes('progress') && events.includes('preview') && events.includes('result'));
  } finally {
    await queue.close();
  }
});

test('through the real job queue: cancelling a running image job ends it as cancelled', async () => {
  const queue = new JobQueue();
  try {
    const seen: string[] = [];
    let id = '';
    queue.onEvent((e) => {
      if (e.jobId !== id) return;
      seen.push(e.type);
      if (e.type === 'progress' && seen.filter((t) => t === 'progress').length === 3) queue.cancel(id);
    });
    id = queue.submit('image.generate', { prompt: 'a cat', seed: 2, steps: 200, cfg: 2, modelDir: FIXTURE_BUNDLE, executionProvider: 'cpu' });
    await assert.rejects(queue.wait(id));
    assert.equal(queue.get(id)!.status, 'cancelled');
    assert.ok(!seen.includes('result'));
  } finally {
    await queue.close();
  }
});
