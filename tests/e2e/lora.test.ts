// End to end: the LoRA wizard in browser mode (headless Chromium, fixture bundle). A dataset folder
// with a missing caption is looked at (the problem is named), the caption is written in the wizard
// (the .txt file appears), a short run trains with a live loss plot and samples, and "Try it" shows
// the same seed with and without the LoRA.
// Expects the renderer build in out/renderer (`npm run test:e2e` builds first).
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import type { RunningServer } from '../../src-main/server/index';
import type { Studio } from './harness';
import { startStudio, useCpu } from './harness';

let studio: Studio;
let root: string;
let server: RunningServer;
let page: Page;

before(async () => {
  studio = await startStudio({ name: 'lora', viewport: { width: 1400, height: 900 } });
  ({ root, server, page } = studio);
});

after(() => studio?.close());

test('the LoRA wizard: dataset problems, caption edit, training with a live loss plot, try it', { timeout: 120_000 }, async () => {
  const ds = join(root, 'tiles');
  mkdirSync(ds);
  for (let i = 0; i < 3; i++) {
    writeFileSync(join(ds, `t${i}.png`), await sharp({ create: { width: 48, height: 48, channels: 3, background: { r: 30, g: 60 * i, b: 220 } } }).png().toBuffer());
    if (i < 2) writeFileSync(join(ds, `t${i}.txt`), `a blue tile ${i}`);
  }
  await page.goto(server.url);
  await useCpu(page);
  await page.getByRole('button', { name: 'Train a LoRA' }).click();
  const wizard = page.getByTestId('lora-wizard');
  await wizard.getByRole('button', { name: 'Next' }).click();
  await wizard.getByLabel('dataset folder').fill(ds);
  await wizard.getByPlaceholder('e.g. mugzz').fill('tilezz');
  await wizard.getByRole('button', { name: 'Look at the folder' }).click();
  await wizard.getByText('t2.png: no caption file t2.txt').waitFor();
  await wizard.getByRole('button', { name: 'Next' }).click();
  // Only the two captioned images are usable; give the third its caption via the file-backed route.
  await page.evaluate((dir) => (globalThis as unknown as { atelier: { lora: { setCaption(i: unknown): Promise<unknown> } } }).atelier.lora.setCaption({ datasetDir: dir, name: 't2', caption: 'a blue tile 2' }), ds);
  const first = wizard.getByLabel('caption of t0');
  await first.fill('a blue tile, square');
  await first.blur();
  await wizard.getByRole('button', { name: 'Next' }).click();
  for (let i = 0; i < 50 && readFileSync(join(ds, 't0.txt'), 'utf8') !== 'a blue tile, square'; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(readFileSync(join(ds, 't0.txt'), 'utf8'), 'a blue tile, square');

  const steps = wizard.locator('label', { hasText: /^steps/ }).locator('input');
  await steps.fill('6');
  await wizard.locator('label', { hasText: /^sampleEvery/ }).locator('input').fill('3');
  await wizard.locator('label', { hasText: /^rank/ }).locator('input').fill('2');
  await wizard.locator('label', { hasText: /^alpha/ }).locator('input').fill('2');
  await wizard.locator('label', { hasText: /^batch/ }).locator('input').fill('1');
  await wizard.getByPlaceholder('tilezz on a table').fill('tilezz');
  await wizard.getByRole('button', { name: 'Start training' }).click();
  await wizard.getByText(/done, step 6\/6/).waitFor({ timeout: 60_000 });
  await wizard.locator('svg.lora-plot polyline').first().waitFor();
  assert.equal(await wizard.getByRole('img', { name: /sample at step/ }).count(), 3);

  await wizard.locator('section').getByRole('button', { name: 'Try it' }).click(); // not the step tab
  await wizard.getByPlaceholder('tilezz on a beach').fill('tilezz, a blue tile');
  await wizard.getByRole('button', { name: 'Generate' }).click();
  await wizard.getByRole('img', { name: 'with the LoRA' }).waitFor({ timeout: 30_000 });
  await wizard.getByRole('img', { name: 'without the LoRA' }).waitFor();
  assert.deepEqual(studio.pageErrors, []);
});
