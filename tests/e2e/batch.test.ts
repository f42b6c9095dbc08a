// End to end: the batch panel in browser mode (headless Chromium, fixture bundle). A CSV chosen in
// the panel runs in the queue; its bad row is listed with its line; the batch reaches done and its
// images land in the history; Export writes JPEG files with a manifest to a folder.
// Expects the renderer build in out/renderer (`npm run test:e2e` builds first).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import type { RunningServer } from '../../src-main/server/index';
import { startServer } from '../../src-main/server/index';
import { readEmbedded } from '../../src-main/export/encode';

const repo = resolve(import.meta.dirname, '../..');
const rendererDir = join(repo, 'out', 'renderer');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let root: string;
let server: RunningServer;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];

before(async () => {
  assert.ok(existsSync(join(rendererDir, 'index.html')), `no renderer build in ${rendererDir}: run npx electron-vite build first`);
  assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}`);
  root = mkdtempSync(join(tmpdir(), 'atelier-e2e-batch-'));
  server = await startServer({ dataDir: join(root, 'data'), rendererDir, port: 0, modelRoots: [{ dir: join(repo, 'tests', 'fixtures'), origin: 'bundled' }] });
  context = await chromium.launchPersistentContext(join(root, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1400, height: 900 },
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (error) => pageErrors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(`console: ${message.text()}`);
  });
});

after(async () => {
  await context?.close();
  await server?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

test('a prompt list chosen in the batch panel runs, reports its bad row, and exports', { timeout: 120_000 }, async () => {
  await page.goto(server.url);
  await page.getByRole('heading', { name: 'Batches' }).waitFor();
  await page.evaluate(() => (globalThis as unknown as { atelier: { settings: { set(i: unknown): Promise<unknown> } } }).atelier.settings.set({ executionProvider: 'cpu', threads: 1 }));
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
  assert.deepEqual(pageErrors, []);
});
