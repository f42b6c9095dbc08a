// End to end: the studio canvas in headless Debian Chromium against browser mode, used as a person
// would: generate, paint a mask and inpaint, edit by instruction, undo/redo, outpaint, cancel, search,
// delete, reload, drop a PNG. The committed fixture bundle stands in for the shipped model (32×32
// images, random weights). Expects the renderer build in out/renderer (`npm run test:e2e` builds it).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { RunningServer } from '../../src-main/server/index';
import type { Studio } from './harness';
import { FIXTURE_MODELS, repo, startStudio } from './harness';

let studio: Studio;
let server: RunningServer;
let page: Page;

interface Pixels {
  w: number;
  h: number;
  data: number[];
}
interface CanvasState {
  currentId: string;
  strokes: number;
  masked: number;
  scale: number;
  x: number;
  y: number;
  width: number;
  height: number;
  box: { x: number; y: number };
}
interface HistoryItemLite {
  id: string;
  parentId: string | null;
  kind: string;
  prompt: string;
  seed: number;
  images: { role: string; url: string; width: number | null; height: number | null }[];
  params: Record<string, unknown>;
}

// Helpers that run inside the page (plain JS: this file compiles without the DOM library).
const PAGE_HELPERS = `
window.__pixels = async (url) => {
  const img = new Image();
  img.src = url;
  await img.decode();
  const c = document.createElement('canvas');
  c.width = img.naturalWidth; c.height = img.naturalHeight;
  const ctx = c.getContext('2d');
  ctx.drawImage(img, 0, 0);
  return { w: c.width, h: c.height, data: Array.from(ctx.getImageData(0, 0, c.width, c.height).data) };
};
window.__stagePixel = (sx, sy) => {
  const layer = document.querySelector('[data-testid=canvas] canvas');
  const ratio = layer.width / layer.clientWidth;
  return Array.from(layer.getContext('2d').getImageData(Math.floor(sx * ratio), Math.floor(sy * ratio), 1, 1).data);
};
window.__history = async (id) => (await window.atelier.history.get({ id })).data;
`;

async function canvasState(): Promise<CanvasState> {
  const host = page.getByTestId('canvas');
  const box = (await host.boundingBox())!;
  const attr = async (name: string) => (await host.getAttribute(name)) ?? '';
  return {
    currentId: await attr('data-current-id'),
    strokes: Number(await attr('data-strokes')),
    masked: Number(await attr('data-masked')),
    scale: Number(await attr('data-scale')),
    x: Number(await attr('data-view-x')),
    y: Number(await attr('data-view-y')),
    width: Number(await attr('data-width')),
    height: Number(await attr('data-height')),
    box: { x: box.x, y: box.y },
  };
}

/** Screen position of the centre of image pixel (ix, iy). */
function screenOf(s: CanvasState, ix: number, iy: number) {
  return { x: s.box.x + s.x + (ix + 0.5) * s.scale, y: s.box.y + s.y + (iy + 0.5) * s.scale };
}

const pixels = (url: string) => page.evaluate(`__pixels(${JSON.stringify(url)})`) as Promise<Pixels>;
const historyItem = (id: string) => page.evaluate(`__history(${JSON.stringify(id)})`) as Promise<HistoryItemLite>;
const outputUrl = (item: HistoryItemLite) => item.images.find((i) => i.role === 'output')!.url;
const prompt = () => page.getByRole('form', { name: 'Prompt' });

async function waitForNewCurrent(previous: string, timeout = 60_000): Promise<string> {
  // A new current image, or the studio's error banner (then the test fails with its words).
  const outcome = await page.waitForFunction(
    (prev) => {
      const doc = (globalThis as unknown as { document: { querySelector(s: string): { getAttribute(n: string): string | null; textContent: string | null } | null } }).document;
      const banner = doc.querySelector('[data-testid=error-banner]');
      if (banner) return { error: banner.textContent ?? '' };
      const id = doc.querySelector('[data-testid=canvas]')?.getAttribute('data-current-id') ?? '';
      return id !== '' && id !== prev ? { id } : null;
    },
    previous,
    { timeout },
  );
  const value = (await outcome.jsonValue()) as { id?: string; error?: string };
  if (value.error !== undefined) throw new Error(`the studio reported: ${value.error}`);
  return value.id!;
}

async function runFromPrompt(mode: string, text: string) {
  await prompt().getByRole('radio', { name: mode }).click();
  const area = prompt().locator('textarea[name=prompt]');
  await area.fill(text);
  await area.press('Enter');
}

before(async () => {
  studio = await startStudio({ name: 'canvas', modelRoots: [FIXTURE_MODELS, { dir: join(repo, 'resources', 'models'), origin: 'bundled' }] });
  ({ server, page } = studio);
  await page.goto(server.url);
  await page.evaluate(PAGE_HELPERS);
  await prompt().locator('select[name=model]').selectOption('bundle-fixture');
  await prompt().locator('input[name=steps]').fill('3');
});

after(() => studio?.close());

let firstId = '';
let inpaintId = '';
let editId = '';

test('type a prompt and press Enter: the image appears on the canvas', async () => {
  await runFromPrompt('Generate', 'a lighthouse on a cliff at dawn');
  firstId = await waitForNewCurrent('');
  const item = await historyItem(firstId);
  assert.equal(item.kind, 't2i');
  assert.equal(item.prompt, 'a lighthouse on a cliff at dawn');
  const png = await pixels(outputUrl(item));
  assert.deepEqual([png.w, png.h], [32, 32]);

  // What the canvas shows is the image, pixel for pixel (no smoothing at this zoom).
  const s = await canvasState();
  assert.ok(s.scale > 4, `the 32 px image is zoomed to fit (scale ${s.scale})`);
  for (const [ix, iy] of [[3, 4], [16, 16], [30, 27]] as const) {
    const at = screenOf(s, ix, iy);
    const shown = (await page.evaluate(`__stagePixel(${at.x - s.box.x}, ${at.y - s.box.y})`)) as number[];
    const i = (iy * 32 + ix) * 4;
    assert.deepEqual(shown.slice(0, 3), png.data.slice(i, i + 3), `pixel ${ix},${iy}`);
  }
  await page.getByTestId('history-item').filter({ hasText: 'a lighthouse on a cliff at dawn' }).waitFor();
  await studio.screenshot('canvas-generated');
});

test('paint a mask and inpaint: pixels outside the mask are unchanged, the mask stays for a retry', async () => {
  await prompt().getByRole('radio', { name: 'Inpaint' }).click();
  await page.getByRole('button', { name: 'Brush' }).click();
  await page.getByRole('slider', { name: 'Brush size' }).fill('6');
  const s = await canvasState();
  // A stroke down the left part of the image.
  const from = screenOf(s, 6, 4);
  const to = screenOf(s, 10, 26);
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  for (let k = 1; k <= 8; k++) await page.mouse.move(from.x + ((to.x - from.x) * k) / 8, from.y + ((to.y - from.y) * k) / 8);
  await page.mouse.up();
  const painted = await canvasState();
  assert.equal(painted.strokes, 1, 'one stroke per pointer gesture');
  assert.ok(painted.masked > 50 && painted.masked < 400, `masked ${painted.masked} px`);
  await studio.screenshot('canvas-mask-painted');

  await runFromPrompt('Inpaint', 'a red door');
  inpaintId = await waitForNewCurrent(firstId);
  const result = await historyItem(inpaintId);
  assert.equal(result.kind, 'inpaint');
  assert.equal(result.parentId, firstId, 'the result is a child of its source');
  const maskUrl = result.images.find((i) => i.role === 'mask')?.url;
  assert.ok(maskUrl, 'the mask sent is kept with the result');
  const [before, afterPx, mask] = await Promise.all([pixels(outputUrl(await historyItem(firstId))), pixels(outputUrl(result)), pixels(maskUrl)]);
  let outside = 0;
  let changedOutside = 0;
  let inside = 0;
  let changedInside = 0;
  for (let p = 0; p < 32 * 32; p++) {
    const same = [0, 1, 2].every((c) => before.data[p * 4 + c] === afterPx.data[p * 4 + c]);
    if (mask.data[p * 4]! < 128) {
      outside++;
      if (!same) changedOutside++;
    } else {
      inside++;
      if (!same) changedInside++;
    }
  }
  assert.equal(inside, painted.masked, 'the mask sent is the mask painted');
  assert.ok(outside > 600, `${outside} pixels outside the mask`);
  assert.equal(changedOutside, 0, 'no pixel outside the mask changed');
  assert.ok(changedInside > 0, 'the masked area was repainted');
  // Read back from the canvas too: an unmasked pixel shows the source's colour.
  const now = await canvasState();
  const at = screenOf(now, 28, 28);
  const shown = (await page.evaluate(`__stagePixel(${at.x - now.box.x}, ${at.y - now.box.y})`)) as number[];
  const i = (28 * 32 + 28) * 4;
  assert.deepEqual(shown.slice(0, 3), before.data.slice(i, i + 3));
  assert.equal(now.strokes, 1, 'the mask is kept for a retry');
  await studio.screenshot('canvas-inpainted');
});

test('undo and redo: results and strokes step back and forth; zoom is not an undo step', async () => {
  await page.getByTestId('canvas-status').click(); // the focus leaves the prompt
  const zoomBefore = (await canvasState()).scale;
  await page.keyboard.press('+');
  const zoomed = (await canvasState()).scale;
  assert.ok(zoomed > zoomBefore, 'zoomed in');
  await page.keyboard.press('Control+z');
  assert.equal((await canvasState()).currentId, firstId, 'undo: the result is taken off, the source is current again');
  assert.equal((await canvasState()).scale, zoomed, 'undo left the zoom alone');
  await page.keyboard.press('Control+z');
  assert.equal((await canvasState()).strokes, 0, 'undo: the stroke is gone');
  await page.getByRole('button', { name: 'Redo' }).click();
  assert.equal((await canvasState()).strokes, 1);
  await page.keyboard.press('Control+Shift+z');
  assert.equal((await canvasState()).currentId, inpaintId);
  // A new edit after an undo cuts the redo branch.
  await page.keyboard.press('Control+z');
  const maskedBefore = (await canvasState()).masked;
  await page.getByRole('button', { name: 'Invert' }).click();
  assert.equal((await canvasState()).masked, 32 * 32 - maskedBefore, 'invert');
  assert.equal(await page.getByRole('button', { name: 'Redo' }).isDisabled(), true, 'the redo branch is cut');
  await page.keyboard.press('Control+z');
  assert.equal((await canvasState()).masked, maskedBefore);
  assert.equal((await canvasState()).currentId, firstId);
  // Any result can be continued from: open the inpaint result from the history.
  await page.getByRole('button', { name: 'open a red door' }).click();
  await page.waitForFunction((id) => (globalThis as unknown as { document: { querySelector(s: string): { getAttribute(n: string): string | null } | null } }).document.querySelector('[data-testid=canvas]')?.getAttribute('data-current-id') === id, inpaintId);
  await page.keyboard.press('0');
});

test('an instruction edit makes a child of the current image; compare and lineage show the chain', async () => {
  await prompt().locator('textarea[name=negativePrompt]').fill('blurry');
  await runFromPrompt('Edit', 'make it night');
  editId = await waitForNewCurrent(inpaintId);
  // The engine said what it did with the request: this model family has no negative prompt.
  await page.getByTestId('notice').filter({ hasText: /Edit: .*negative prompts are not used/ }).waitFor();
  await page.getByRole('button', { name: 'dismiss notice' }).click();
  await prompt().locator('textarea[name=negativePrompt]').fill('');
  const edit = await historyItem(editId);
  assert.equal(edit.kind, 'edit');
  assert.equal(edit.prompt, 'make it night');
  assert.equal(edit.parentId, inpaintId);
  // "Keep untouched areas" is on by default: the edit kept the source where its AR kept the codes.
  assert.equal(await prompt().getByLabel('Keep untouched areas').isChecked(), true);
  assert.equal(edit.params.keepUnchanged, true);
  const kept = (edit.params.metadata as { keep_unchanged?: { cells_kept: number; cells: number } }).keep_unchanged;
  assert.equal(kept?.cells, 16, 'the fixture model has a 4×4 code grid');

  // Before/after: the left of the line shows the source, the right the result.
  await page.getByRole('button', { name: 'Compare' }).click();
  await page.getByRole('slider', { name: 'Compare position' }).fill('50');
  const s = await canvasState();
  const [source, result] = await Promise.all([pixels(outputUrl(await historyItem(inpaintId))), pixels(outputUrl(edit))]);
  const differs = (a: number[], b: number[]) => a.slice(0, 3).some((v, i) => v !== b[i]);
  let checked = 0;
  for (let y = 2; y < 30; y += 3) {
    for (const [x, expected] of [[4, source], [27, result]] as const) {
      const i = (y * 32 + x) * 4;
      const want = expected.data.slice(i, i + 3);
      const other = (expected === source ? result : source).data.slice(i, i + 3);
      if (!differs(want, other)) continue; // the two images agree here: nothing to tell apart
      const at = screenOf(s, x, y);
      // The image layer has its own canvas, under the mask's.
      const shown = (await page.evaluate(`__stagePixel(${at.x - s.box.x}, ${at.y - s.box.y})`)) as number[];
      assert.deepEqual(shown.slice(0, 3), want, `pixel ${x},${y} shows the ${expected === source ? 'source' : 'result'}`);
      checked++;
    }
  }
  assert.ok(checked > 5, `${checked} pixels told apart`);
  await studio.screenshot('canvas-compare');
  await page.getByRole('button', { name: 'Compare' }).click();

  // The lineage tree: generate → inpaint → edit.
  const history = page.getByRole('region', { name: 'History' });
  await history.getByTestId('history-item').filter({ hasText: 'make it night' }).getByRole('button', { name: 'lineage' }).click();
  const nodes = page.getByTestId('lineage-node');
  await nodes.first().waitFor();
  assert.deepEqual(await nodes.evaluateAll((els) => els.map((e) => (e as unknown as { dataset: { id: string } }).dataset.id)), [firstId, inpaintId, editId]);
  await studio.screenshot('canvas-lineage');
  await page.getByTestId('lineage').getByRole('button', { name: 'close' }).click();
});

test('outpaint grows the image into the box and keeps every old pixel', async () => {
  await prompt().getByRole('radio', { name: 'Outpaint' }).click();
  // The box's right handle drags the right margin (16 px to start with) …
  const right = prompt().locator('input[name=outpaint-right]');
  assert.equal(await right.inputValue(), '16');
  await page.waitForTimeout(100); // the canvas refits to show the box
  const box = await canvasState();
  const handle = screenOf(box, 32 + 16 - 0.5, 16 - 0.5);
  await page.mouse.move(handle.x, handle.y);
  await page.mouse.down();
  await page.mouse.move(handle.x + 4 * box.scale, handle.y + 30, { steps: 3 });
  await page.mouse.move(handle.x + 8 * box.scale, handle.y + 30, { steps: 3 });
  await page.mouse.up();
  assert.equal(await right.inputValue(), '24');
  assert.equal((await canvasState()).strokes, box.strokes, 'dragging a handle paints nothing');
  // … and the field sets it exactly.
  await right.fill('16');
  await studio.screenshot('canvas-outpaint-box');
  await runFromPrompt('Outpaint', 'more cliffs to the right');
  const id = await waitForNewCurrent(editId);
  const item = await historyItem(id);
  assert.equal(item.parentId, editId);
  const [source, grown] = await Promise.all([pixels(outputUrl(await historyItem(editId))), pixels(outputUrl(item))]);
  assert.deepEqual([grown.w, grown.h], [48, 32]);
  for (let y = 0; y < 32; y++) {
    for (let x = 0; x < 32; x++) {
      const a = (y * 32 + x) * 4;
      const b = (y * 48 + x) * 4;
      assert.deepEqual(grown.data.slice(b, b + 3), source.data.slice(a, a + 3), `old pixel ${x},${y}`);
    }
  }
  await studio.screenshot('canvas-outpainted');
  // Back to the edit for the rest of the run.
  await page.getByTestId('canvas-status').click();
  await page.keyboard.press('Control+z');
  assert.equal((await canvasState()).currentId, editId);
});

test('while a job runs the studio answers input within 100 ms; a queued and a running job are cancelled', async () => {
  await page.getByRole('button', { name: 'Jobs' }).click();
  // A long job that sends a preview every 10 ms: the page is busy taking events while the person works.
  const started = (await page.evaluate(`window.atelier.jobs.submit({ kind: 'diagnostics.count', params: { n: 600, delayMs: 10, preview: true } })`)) as { data: { jobId: string } };
  const running = page.locator(`[data-job-id="${started.data.jobId}"]`);
  await running.and(page.locator('[data-state=running]')).waitFor();
  // An image job from the canvas waits behind it.
  await runFromPrompt('Generate', 'a harbour at night');
  const active = page.getByTestId('active-job');
  await active.and(page.locator('[data-state=queued]')).waitFor();

  await page.evaluate(`(() => {
    window.__latency = { key: [], move: [] };
    const measure = (list) => (e) => {
      const t0 = e.timeStamp;
      // After the handlers and React's commit, and after the frame that shows it.
      requestAnimationFrame(() => setTimeout(() => list.push(performance.now() - t0), 0));
    };
    window.__latency.longTasks = [];
    new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__latency.longTasks.push(e.duration); }).observe({ type: 'longtask' });
    document.addEventListener('keydown', measure(window.__latency.key), true);
    document.querySelector('[data-testid=canvas]').addEventListener('mousemove', measure(window.__latency.move), true);
  })()`);
  const progressBefore = Number((await running.getByTestId('job-progress').textContent())?.match(/(\d+) \/ 600/)?.[1] ?? 0);
  const area = prompt().locator('textarea[name=prompt]');
  await area.click();
  await area.press('End');
  await page.keyboard.type(', boats and lanterns', { delay: 20 });
  assert.equal(await area.inputValue(), 'a harbour at night, boats and lanterns', 'every key landed');
  // Paint while the job runs: the live stroke follows the pointer.
  const s = await canvasState();
  const a = screenOf(s, 20, 6);
  const b = screenOf(s, 26, 20);
  await page.mouse.move(a.x, a.y);
  await page.mouse.down();
  for (let k = 1; k <= 25; k++) await page.mouse.move(a.x + ((b.x - a.x) * k) / 25, a.y + ((b.y - a.y) * k) / 25);
  await page.mouse.up();
  await page.waitForTimeout(100);
  const latency = (await page.evaluate('window.__latency')) as { key: number[]; move: number[]; longTasks: number[] };
  const progressAfter = Number((await running.getByTestId('job-progress').textContent())?.match(/(\d+) \/ 600/)?.[1] ?? 0);
  assert.ok(progressAfter > progressBefore + 10, `the job kept running during the measurement (${progressBefore} → ${progressAfter})`);
  assert.equal(await running.getAttribute('data-state'), 'running');
  const stats = (xs: number[]) => {
    const sorted = [...xs].sort((p, q) => p - q);
    return { n: xs.length, p50: sorted[Math.floor(xs.length / 2)]!, p95: sorted[Math.floor(xs.length * 0.95)]!, max: sorted[sorted.length - 1]! };
  };
  const keys = stats(latency.key);
  const moves = stats(latency.move);
  console.log(`input latency during a job: keys ${JSON.stringify(keys)} ms, pointer moves ${JSON.stringify(moves)} ms; main-thread tasks over 50 ms: ${JSON.stringify(latency.longTasks.map(Math.round))}`);
  assert.ok(keys.n >= 20 && moves.n >= 20, 'the measurement saw the input');
  // Input is handled and on screen within 100 ms (95th percentile: on the 2 shared test cores a single
  // event can wait for the CPU itself); nothing ever freezes the page.
  assert.ok(keys.p95 < 100, `95 % of key presses within ${keys.p95.toFixed(1)} ms`);
  assert.ok(moves.p95 < 100, `95 % of pointer moves within ${moves.p95.toFixed(1)} ms`);
  assert.ok(keys.max < 250 && moves.max < 250, `no freeze (slowest: keys ${keys.max.toFixed(1)} ms, moves ${moves.max.toFixed(1)} ms)`);
  assert.equal((await canvasState()).strokes, 2, 'the stroke drawn during the job was committed');
  await studio.screenshot('canvas-job-running');

  // Cancel the queued image job from the canvas, then the running one from the queue.
  const imageJob = page.getByTestId('job').filter({ hasText: 'image.generate' }).and(page.locator('[data-state=queued]'));
  const imageJobId = await imageJob.getAttribute('data-job-id');
  await active.getByRole('button', { name: 'Cancel job' }).click();
  await page.locator(`[data-job-id="${imageJobId}"][data-state=cancelled]`).waitFor();
  await running.getByRole('button', { name: 'Cancel' }).click();
  await running.and(page.locator('[data-state=cancelled]')).waitFor();
  const stoppedAt = await running.getByTestId('job-progress').textContent();
  await page.waitForTimeout(300);
  assert.equal(await running.getByTestId('job-progress').textContent(), stoppedAt, 'no steps after the cancel');
  assert.equal((await canvasState()).currentId, editId, 'the cancelled job put nothing on the canvas');
  const states = (await page.evaluate('window.atelier.jobs.list()')) as { data: { jobs: { jobId: string; state: string }[] } };
  const stateOf = (id: string | null) => states.data.jobs.find((j) => j.jobId === id)?.state;
  assert.equal(stateOf(imageJobId), 'cancelled');
  assert.equal(stateOf(started.data.jobId), 'cancelled');
  await studio.screenshot('canvas-jobs-cancelled');
});

const NANO = join(repo, 'resources', 'models', 'atelier-nano', 'bundle.json');
test('a running image job is cancelled from the canvas (the shipped nano model, slow enough to catch)', { skip: !existsSync(NANO) && 'no shipped nano bundle in resources/models' }, async () => {
  await prompt().locator('select[name=model]').selectOption('atelier-nano');
  await prompt().locator('input[name=steps]').fill('200'); // long enough to type and cancel while it runs
  const before = (await canvasState()).currentId;
  await runFromPrompt('Generate', 'a blue square on a white background');
  const active = page.getByTestId('active-job');
  await active.and(page.locator('[data-state=running]')).waitFor({ timeout: 60_000 });
  // Caught mid-inference: tokens or diffusion steps are coming in.
  await active.filter({ hasText: /image tokens \d+ \/ \d+|diffusion \d+ \/ \d+/ }).waitFor({ timeout: 60_000 });
  const job = page.getByTestId('job').filter({ hasText: 'image.generate' }).and(page.locator('[data-state=running]'));
  const jobId = await job.getAttribute('data-job-id');
  // Responsive during real inference too (the engine runs in the core's worker; previews stream in).
  await page.evaluate('window.__latency.key.length = 0');
  const area = prompt().locator('textarea[name=prompt]');
  await area.press('End');
  await page.keyboard.type(' at noon, sunny day!', { delay: 20 });
  const keys = ((await page.evaluate('window.__latency.key')) as number[]).sort((a, b) => a - b);
  console.log(`key latency during a nano generation: ${JSON.stringify(keys.map(Math.round))} ms`);
  assert.ok(keys.length >= 21 && keys[Math.floor(keys.length * 0.95)]! < 100, `95 % of keys within 100 ms: ${JSON.stringify(keys)}`);
  assert.equal(await page.locator(`[data-job-id="${jobId}"]`).getAttribute('data-state'), 'running', 'still running after the typing');
  await studio.screenshot('canvas-nano-running');
  await active.getByRole('button', { name: 'Cancel job' }).click();
  await page.locator(`[data-job-id="${jobId}"][data-state=cancelled]`).waitFor();
  await page.waitForTimeout(300);
  assert.equal((await canvasState()).currentId, before, 'nothing from the cancelled job reached the canvas');
  const listed = (await page.evaluate('window.atelier.jobs.list()')) as { data: { jobs: { jobId: string; state: string }[] } };
  assert.equal(listed.data.jobs.find((j) => j.jobId === jobId)?.state, 'cancelled');
  await prompt().locator('select[name=model]').selectOption('bundle-fixture');
  await prompt().locator('input[name=steps]').fill('3');
});

test('search finds the image; delete removes it and its file; a reload keeps the rest', async () => {
  const history = page.getByRole('region', { name: 'History' });
  const count = () => history.getByTestId('history-item').count();
  const all = await count();
  assert.equal(all, 4, 'generate, inpaint, edit, outpaint');
  // Filters: no image was made with the nano model (when installed); all of them with the fixture, today.
  if (existsSync(NANO)) {
    await history.getByRole('combobox', { name: 'Filter by model' }).selectOption('atelier-nano');
    await history.getByText('Nothing here yet.').waitFor();
  }
  await history.getByRole('combobox', { name: 'Filter by model' }).selectOption('atelier-fixture');
  await history.getByRole('combobox', { name: 'Filter by date' }).selectOption('today');
  await history.getByTestId('history-item').nth(all - 1).waitFor();
  assert.equal(await count(), all);
  await history.getByRole('checkbox').check();
  await history.getByText('Nothing here yet.').waitFor();
  await history.getByRole('checkbox').uncheck();
  await history.getByRole('combobox', { name: 'Filter by model' }).selectOption('');
  await history.getByRole('combobox', { name: 'Filter by date' }).selectOption('any');
  await history.getByTestId('history-item').nth(all - 1).waitFor();
  await history.getByRole('searchbox').fill('night');
  await history.getByTestId('history-item').filter({ hasText: 'make it night' }).waitFor();
  await page.waitForFunction(() => (globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } }).document.querySelectorAll('[data-testid=history-item]').length === 1);
  await studio.screenshot('canvas-search');
  const item = history.getByTestId('history-item').first();
  const url = outputUrl(await historyItem(editId));
  const withToken = { headers: { authorization: `Bearer ${server.token}` } };
  assert.equal((await fetch(`${server.origin}${url}`, withToken)).status, 200);
  await item.getByRole('button', { name: 'delete' }).click();
  await history.getByText('Nothing here yet.').waitFor();
  assert.equal((await fetch(`${server.origin}${url}`, withToken)).status, 404, 'the file went with the history item');

  await history.getByRole('searchbox').fill('');
  await page.waitForFunction(() => (globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } }).document.querySelectorAll('[data-testid=history-item]').length === 3);
  const before = await history.getByTestId('history-item').evaluateAll((els) => els.map((e) => (e as unknown as { dataset: { id: string } }).dataset.id));
  const desk = await canvasState();
  const promptText = await prompt().locator('textarea[name=prompt]').inputValue();
  assert.equal(desk.currentId, editId, 'the deleted image is still on the canvas until the page forgets it');
  await page.waitForTimeout(400); // the desk is saved a moment after each change
  await page.reload();
  await page.evaluate(PAGE_HELPERS);
  // The desk comes back: the prompt and the mask; the deleted image does not.
  await page.waitForFunction((n) => (globalThis as unknown as { document: { querySelector(s: string): { getAttribute(n: string): string | null } | null } }).document.querySelector('[data-testid=canvas]')?.getAttribute('data-strokes') === String(n), desk.strokes);
  assert.equal(await prompt().locator('textarea[name=prompt]').inputValue(), promptText);
  assert.equal((await canvasState()).currentId, '', 'a deleted history item is not restored onto the canvas');
  await page.getByRole('region', { name: 'History' }).getByTestId('history-item').nth(2).waitFor();
  const after = await page.getByRole('region', { name: 'History' }).getByTestId('history-item').evaluateAll((els) => els.map((e) => (e as unknown as { dataset: { id: string } }).dataset.id));
  assert.deepEqual(after, before);
  assert.ok(!after.includes(editId) && after.includes(firstId) && after.includes(inpaintId));
  // Every remaining image still loads.
  for (const id of after) {
    const png = await pixels(outputUrl(await historyItem(id)));
    assert.ok(png.w >= 32 && png.h === 32);
  }
  await studio.screenshot('canvas-after-reload');
});

test('a dropped PNG opens on the canvas and its parameters can be reused', async () => {
  const item = await historyItem(firstId);
  await page.evaluate(`(async () => {
    const blob = await (await fetch(${JSON.stringify(outputUrl(item))})).blob();
    const file = new File([blob], 'lighthouse.png', { type: 'image/png' });
    const data = new DataTransfer();
    data.items.add(file);
    const target = document.querySelector('.studio');
    target.dispatchEvent(new DragEvent('dragover', { dataTransfer: data, bubbles: true, cancelable: true }));
    target.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
  })()`);
  const notice = page.getByTestId('notice');
  await notice.filter({ hasText: 'Atelier parameters found' }).waitFor();
  assert.match((await notice.textContent()) ?? '', new RegExp(`seed ${item.seed}`));
  const s = await canvasState();
  assert.equal(s.currentId, '', 'a dropped file is not a history item');
  assert.equal(await page.getByTestId('canvas').getAttribute('data-current-url'), 'data:');
  await studio.screenshot('canvas-dropped');
  await prompt().locator('textarea[name=prompt]').fill('something else');
  await notice.getByRole('button', { name: 'Reuse parameters' }).click();
  assert.equal(await prompt().locator('textarea[name=prompt]').inputValue(), 'a lighthouse on a cliff at dawn');
  assert.equal(await prompt().locator('input[name=seed]').inputValue(), String(item.seed));
  assert.equal(await prompt().getByRole('button', { name: 'lock seed' }).getAttribute('aria-pressed'), 'true');

  // A file that is no image gets a clear message.
  await page.evaluate(`(() => {
    const data = new DataTransfer();
    data.items.add(new File(['hello'], 'notes.txt', { type: 'text/plain' }));
    document.querySelector('.studio').dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
  })()`);
  await page.getByTestId('error-banner').filter({ hasText: 'notes.txt is not an image' }).waitFor();
  await page.getByRole('button', { name: 'dismiss error' }).click();
});

test('shortcuts: ? shows the help, brush keys change the tool and size', async () => {
  await page.getByTestId('canvas-status').click();
  await page.keyboard.press('?');
  const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
  await help.waitFor();
  assert.match((await help.textContent()) ?? '', /Ctrl\+Z.*Undo/);
  await studio.screenshot('canvas-help');
  await page.keyboard.press('Escape');
  await help.waitFor({ state: 'detached' });
  await page.keyboard.press('e');
  assert.equal(await page.getByRole('button', { name: 'Eraser' }).getAttribute('aria-pressed'), 'true');
  const size = Number(await page.getByRole('slider', { name: 'Brush size' }).inputValue());
  await page.keyboard.press(']');
  assert.ok(Number(await page.getByRole('slider', { name: 'Brush size' }).inputValue()) > size);
  await page.keyboard.press('[');
  await page.keyboard.press('[');
  assert.ok(Number(await page.getByRole('slider', { name: 'Brush size' }).inputValue()) < size);
  await page.keyboard.press('b');
  assert.equal(await page.getByRole('button', { name: 'Brush' }).getAttribute('aria-pressed'), 'true');
});

test('mask tools: the eraser, a mask loaded from a file; pan and wheel zoom leave the history alone', async () => {
  await page.getByTestId('canvas-status').click();
  const blank = await canvasState();
  await page.keyboard.press('b');
  await page.getByRole('slider', { name: 'Brush size' }).fill('8');
  const p0 = screenOf(blank, 12, 2);
  const p1 = screenOf(blank, 12, 28);
  await page.mouse.move(p0.x, p0.y);
  await page.mouse.down();
  await page.mouse.move(p1.x, p1.y, { steps: 6 });
  await page.mouse.up();
  const start = await canvasState();
  assert.equal(start.strokes, blank.strokes + 1);
  assert.ok(start.masked > blank.masked);
  // Erase across the painted area.
  await page.keyboard.press('e');
  await page.getByRole('slider', { name: 'Brush size' }).fill('12');
  const a = screenOf(start, 0, 10);
  const b = screenOf(start, 31, 14);
  await page.mouse.move(a.x, a.y);
  await page.mouse.down();
  for (let k = 1; k <= 6; k++) await page.mouse.move(a.x + ((b.x - a.x) * k) / 6, a.y + ((b.y - a.y) * k) / 6);
  await page.mouse.up();
  const erased = await canvasState();
  assert.equal(erased.strokes, start.strokes + 1);
  assert.ok(erased.masked < start.masked, `erased: ${start.masked} → ${erased.masked}`);

  // A mask from a file: white left half, black right half.
  const half = Buffer.alloc(32 * 32);
  for (let y = 0; y < 32; y++) half.fill(255, y * 32, y * 32 + 16);
  const { default: sharp } = await import('sharp');
  const maskPng = await sharp(half, { raw: { width: 32, height: 32, channels: 1 } }).png().toBuffer();
  await page.getByTestId('mask-file').setInputFiles({ name: 'half.png', mimeType: 'image/png', buffer: maskPng });
  await page.waitForFunction(() => (globalThis as unknown as { document: { querySelector(s: string): { getAttribute(n: string): string | null } | null } }).document.querySelector('[data-testid=canvas]')?.getAttribute('data-masked') === '512');
  assert.equal((await canvasState()).strokes, 1, 'a loaded mask replaces the strokes (one image stroke)');
  await studio.screenshot('canvas-mask-loaded');
  await page.getByRole('button', { name: 'Undo' }).click();
  assert.equal((await canvasState()).masked, erased.masked);
  const redo = page.getByRole('button', { name: 'Redo' });
  assert.equal(await redo.isEnabled(), true);

  // Space-drag and middle-drag pan, the wheel zooms: no strokes, and the redo branch survives.
  const view0 = await canvasState();
  const c = screenOf(view0, 16, 16);
  await page.keyboard.down('Space');
  await page.mouse.move(c.x, c.y);
  await page.mouse.down();
  await page.mouse.move(c.x + 60, c.y + 30, { steps: 4 });
  await page.mouse.up();
  await page.keyboard.up('Space');
  const panned = await canvasState();
  assert.ok(Math.abs(panned.x - view0.x - 60) < 1 && Math.abs(panned.y - view0.y - 30) < 1, `panned by ${panned.x - view0.x}, ${panned.y - view0.y}`);
  await page.mouse.move(c.x, c.y);
  await page.mouse.down({ button: 'middle' });
  await page.mouse.move(c.x - 60, c.y - 30, { steps: 4 });
  await page.mouse.up({ button: 'middle' });
  const back = await canvasState();
  assert.ok(Math.abs(back.x - view0.x) < 1 && Math.abs(back.y - view0.y) < 1, 'middle-drag panned back');
  await page.mouse.wheel(0, -300);
  await page.waitForFunction((scale) => Number((globalThis as unknown as { document: { querySelector(s: string): { getAttribute(n: string): string | null } | null } }).document.querySelector('[data-testid=canvas]')?.getAttribute('data-scale')) > scale, back.scale);
  const zoomed = await canvasState();
  assert.equal(zoomed.strokes, erased.strokes, 'no stroke from panning or zooming');
  assert.equal(zoomed.masked, erased.masked);
  assert.equal(await redo.isEnabled(), true, 'view changes are not history entries');
  await page.keyboard.press('0');

  // A result placed under the image is clicked to continue from it (and paints no stroke).
  const fitted = await canvasState();
  const tile = screenOf(fitted, 4, 32 + 4 + 4);
  await page.mouse.click(tile.x, tile.y);
  assert.equal((await canvasState()).currentId, firstId);
  assert.equal((await canvasState()).strokes, fitted.strokes);
});

test('a job that cannot start says why in words', async () => {
  // The source of an edit is deleted behind the studio's back (another window, the CLI).
  await page.getByRole('button', { name: 'open a red door' }).click();
  await page.waitForFunction((id) => (globalThis as unknown as { document: { querySelector(s: string): { getAttribute(n: string): string | null } | null } }).document.querySelector('[data-testid=canvas]')?.getAttribute('data-current-id') === id, inpaintId);
  const gone = await fetch(`${server.origin}/api/history.delete`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ id: inpaintId }),
  });
  assert.equal(((await gone.json()) as { ok: boolean }).ok, true);
  await runFromPrompt('Edit', 'make it snow');
  const banner = page.getByTestId('error-banner');
  await banner.filter({ hasText: `Edit could not start: no history item ${inpaintId} to edit (NOT_FOUND)` }).waitFor();
  await studio.screenshot('canvas-error');
  await page.getByRole('button', { name: 'dismiss error' }).click();
});

test('no errors in the page', () => {
  assert.deepEqual(studio.pageErrors, []);
});
