// End to end: exporting a selection from the history gallery, in browser mode (headless Chromium,
// fixture bundle). Three images are generated; "Select" turns the thumbnails into checkboxes
// (select all, clear, click, Shift+click range, click again to drop one), clicks no longer open
// the canvas; a relative folder is refused with the API's message; the two selected images are
// exported as WebP with a zip, and the files, manifest.json and zip on disk are checked. The
// selection stays after the export; Esc leaves selection mode and thumbnails open again.
// Expects the renderer build in out/renderer (`npm run test:e2e` builds first).
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { readEmbedded } from '../../src-main/export/encode';
import { readZipEntries } from '../../src-main/export/zip';
import type { Studio } from './harness';
import { generateFromPrompt, startStudio, useCpu } from './harness';

let studio: Studio;
let page: Page;

before(async () => {
  studio = await startStudio({ name: 'history-export' });
  page = studio.page;
});

after(() => studio?.close());

const prompt = () => page.getByRole('form', { name: 'Prompt' });
const history = () => page.getByRole('region', { name: 'History' });
const thumb = (text: string) => history().getByRole('checkbox', { name: `select ${text}`, exact: true });
const checked = async (text: string) => (await thumb(text).getAttribute('aria-checked')) === 'true';


test('select two history images and export them (WebP, manifest, zip) to a folder', { timeout: 180_000 }, async () => {
  await page.goto(studio.server.url);
  await useCpu(page);
  await prompt().locator('select[name=model]').selectOption('bundle-fixture');
  await prompt().locator('input[name=steps]').fill('2');
  const prompts = ['a red kite', 'a green frog', 'a blue boat'];
  for (const p of prompts) await generateFromPrompt(page, p);
  await history().getByTestId('history-item').nth(2).waitFor();

  // Outside selection mode nothing changed: thumbnails open, the one checkbox is "★ only".
  assert.equal(await history().getByRole('checkbox').count(), 1);
  assert.equal(await history().getByRole('button', { name: 'open a red kite' }).count(), 1);
  const canvas = page.getByTestId('canvas');
  await canvas.and(page.locator('[data-current-url^="/files/"]')).waitFor();
  const currentUrl = await canvas.getAttribute('data-current-url');

  const toggle = history().getByRole('button', { name: 'Select', exact: true });
  assert.equal(await toggle.getAttribute('aria-pressed'), 'false');
  await toggle.click();
  assert.equal(await toggle.getAttribute('aria-pressed'), 'true');
  await thumb('a red kite').waitFor();
  assert.equal(await history().getByRole('button', { name: 'open a red kite' }).count(), 0);
  const count = history().getByTestId('selection-count');
  assert.equal(await count.textContent(), '0 selected');
  // No export bar until something is selected.
  assert.equal(await history().getByRole('form', { name: 'Export selected' }).count(), 0);

  await history().getByRole('button', { name: 'Select all (shown)' }).click();
  for (const p of prompts) assert.equal(await checked(p), true, `${p} selected by select all`);
  await history().getByRole('button', { name: 'Clear', exact: true }).click();
  for (const p of prompts) assert.equal(await checked(p), false, `${p} cleared`);

  // Newest first: blue boat, green frog, red kite. Click the first, Shift+click the last: all three.
  await thumb('a blue boat').click();
  assert.equal(await count.textContent(), '1 selected');
  await thumb('a red kite').click({ modifiers: ['Shift'] });
  for (const p of prompts) assert.equal(await checked(p), true, `${p} in the Shift+click range`);
  await thumb('a green frog').click();
  assert.equal(await checked('a green frog'), false);
  assert.equal(await count.textContent(), '2 selected');
  assert.equal(await history().locator('li.history-item.selected').count(), 2);
  // Clicks selected; none opened an image in the canvas.
  assert.equal(await canvas.getAttribute('data-current-url'), currentUrl);

  const bar = history().getByRole('form', { name: 'Export selected' });
  const button = bar.getByRole('button', { name: 'Export 2 images' });
  // A relative folder: the API's message is shown.
  await bar.getByLabel('export folder').fill('relative/folder');
  await button.click();
  await history().getByTestId('history-export-error').getByText(/absolute path/).waitFor();

  const out = join(studio.root, 'exported');
  await bar.getByLabel('export folder').fill(out);
  await bar.getByLabel('export format').selectOption('webp');
  await bar.getByRole('checkbox', { name: 'also a zip' }).check();
  await button.click();
  const result = history().getByTestId('history-exported');
  await result.getByText(/^2 files written; manifest: .*manifest\.json; zip: .*\.zip$/).waitFor({ timeout: 30_000 });
  assert.equal(await history().getByTestId('history-export-error').count(), 0, 'the earlier error is gone');
  assert.equal(await button.isDisabled(), false);
  await studio.screenshot('history-export');

  // On disk: two WebP files in gallery order, the manifest lists them, the zip holds them.
  const names = readdirSync(out).sort();
  const images = names.filter((n) => n.endsWith('.webp'));
  assert.deepEqual(images, ['0001-a-blue-boat.webp', '0002-a-red-kite.webp']);
  assert.equal(names.filter((n) => /\.(png|jpg)$/.test(n)).length, 0);
  for (const name of images) {
    const bytes = readFileSync(join(out, name));
    assert.equal(bytes.subarray(0, 4).toString('latin1'), 'RIFF');
    assert.equal(bytes.subarray(8, 12).toString('latin1'), 'WEBP');
  }
  assert.equal(readEmbedded(readFileSync(join(out, images[1]!))).parameters!.prompt, 'a red kite');
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { kind: string; counts: { total: number; done: number; failed: number }; items: { file: string; prompt: string; status: string; format: string; generationId: string }[] };
  assert.equal(manifest.kind, 'export');
  assert.deepEqual(manifest.counts, { ...manifest.counts, total: 2, done: 2, failed: 0 });
  assert.deepEqual(manifest.items.map((i) => [i.file, i.prompt, i.status, i.format]), [
    ['0001-a-blue-boat.webp', 'a blue boat', 'done', 'webp'],
    ['0002-a-red-kite.webp', 'a red kite', 'done', 'webp'],
  ]);
  const ids = await history().getByTestId('history-item').evaluateAll((els) => els.map((e) => [(e as unknown as { textContent: string }).textContent, (e as unknown as { dataset: { id: string } }).dataset.id]));
  const idOf = (p: string) => ids.find(([text]) => text?.includes(p))?.[1];
  assert.deepEqual(manifest.items.map((i) => i.generationId), [idOf('a blue boat'), idOf('a red kite')]);
  const zips = names.filter((n) => n.endsWith('.zip'));
  assert.equal(zips.length, 1);
  assert.match((await result.textContent()) ?? '', new RegExp(`zip: .*${zips[0]!.replace(/[.]/g, '\\.')}`));
  const entries = readZipEntries(readFileSync(join(out, zips[0]!)));
  assert.deepEqual(entries.map((e) => e.name).sort(), ['0001-a-blue-boat.webp', '0002-a-red-kite.webp', 'manifest.csv', 'manifest.json']);
  const zipped = entries.find((e) => e.name === '0002-a-red-kite.webp')!;
  assert.ok(Buffer.from(zipped.data).equals(readFileSync(join(out, '0002-a-red-kite.webp'))), 'the zip holds the same bytes');

  // The selection stays after the export.
  assert.equal(await count.textContent(), '2 selected');
  assert.equal(await checked('a blue boat'), true);
  assert.equal(await checked('a red kite'), true);

  // Esc leaves selection mode (focus on a thumbnail, not in a text field); thumbnails open again.
  await thumb('a blue boat').focus();
  await page.keyboard.press('Escape');
  await history().getByTestId('history-selection').waitFor({ state: 'detached' });
  assert.equal(await toggle.getAttribute('aria-pressed'), 'false');
  assert.equal(await history().getByRole('checkbox').count(), 1);
  await history().getByRole('button', { name: 'open a red kite' }).click();
  await page.waitForFunction((before) => {
    const el = (globalThis as unknown as { document: { querySelector(s: string): { getAttribute(n: string): string | null } | null } }).document.querySelector('[data-testid=canvas]');
    return !!el && el.getAttribute('data-current-url') !== before;
  }, currentUrl);

  assert.deepEqual(studio.pageErrors, []);
});
