// End to end: the batch panel in browser mode (headless Chromium, fixture bundle). A CSV chosen in
// the panel runs in the queue; its bad row is listed with its line; the batch reaches done and its
// images land in the history; Export writes JPEG files with a manifest to a folder.
// Expects the renderer build in out/renderer (`npm run test:e2e` builds first).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { RunningServer } from '../../src-main/server/index';
import { readEmbedded } from '../../src-main/export/encode';
import type { Studio } from './harness';
import { startStudio, useCpu } from './harness';

let studio: Studio;
let root: string;
let server: RunningServer;
let page: Page;

before(async () => {
  studio = await startStudio({ name: 'batch', viewport: { width: 1400, height: 900 } });
  ({ root, server, page } = studio);
});

after(() => studio?.close());

test('a prompt list chosen in the batch panel runs, reports its bad row, and exports', { timeout: 120_000 }, async () => {
  await page.goto(server.url);
  await page.getByRole('heading', { name: 'Batches' }).waitFor();
  await useCpu(page);
  const list = join(root, 'prompts.csv');
  writeFileSync(list, 'prompt,seed,steps\n"a red kite, in the sky",1,2\n,2,2\n"a green frog",3,2\n');
  await page.getByTestId('batch-file').setInputFiles(list);
  await page.getByTestId('batch-report').getByText('line 3: the prompt is empty').waitFor();
  const row = page.getByTestId('batch').first();
  await row.and(page.locator('[data-state="done"]')).waitFor({ timeout: 60_000 });
  assert.match((await row.getByTestId('batch-progress').textContent()) ?? '', /2 \/ 3 done · 1 failed/);

  const out = join(root, 'exported');
  await row.getByLabel('export folder').fill(out);
  await row.getByLabel('export format').selectOption('jpeg');
  await row.getByRole('button', { name: 'Export' }).click();
  await row.getByTestId('batch-exported').getByText(/2 files written; manifest: /).waitFor();
  const files = readdirSync(out).filter((f) => f.endsWith('.jpg')).sort();
  assert.deepEqual(files, ['0001-a-red-kite-in-the-sky.jpg', '0002-a-green-frog.jpg']);
  assert.equal(readEmbedded(readFileSync(join(out, files[0]!))).parameters!.prompt, 'a red kite, in the sky');
  assert.ok(existsSync(join(out, 'manifest.json')) && existsSync(join(out, 'manifest.csv')));

  // A file that is not a prompt list is refused with a message.
  const image = join(root, 'not-a-list.png');
  writeFileSync(image, 'x');
  await page.getByTestId('batch-file').setInputFiles(image);
  await page.getByTestId('batch-panel-error').getByText(/not a prompt list/).waitFor();
  assert.deepEqual(studio.pageErrors, []);
});
