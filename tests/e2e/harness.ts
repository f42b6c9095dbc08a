// The end-to-end harness: browser mode on a fresh temp data dir, served to headless Debian Chromium,
// with every page error and console error recorded so a test can assert there were none.
// Expects the renderer build in out/renderer (`npm run test:e2e` builds first).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import type { RunningServer, ServerOptions } from '../../src-main/server/index';
import { startServer } from '../../src-main/server/index';

export const repo = resolve(import.meta.dirname, '../..');
const rendererDir = join(repo, 'out', 'renderer');
const shots = join(repo, 'test-results');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** The committed fixture bundle (random weights, real ONNX graphs) stands in for the shipped model. */
export const FIXTURE_MODELS = { dir: join(repo, 'tests', 'fixtures'), origin: 'bundled' } as const;

// Quiet, sandbox-free headless Chromium: nothing it does on its own reaches the network.
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface StudioOptions {
  /** Names the temp dir (atelier-e2e-NAME-…). */
  name: string;
  /** Where the studio looks for models; the fixture bundle unless told. */
  modelRoots?: ServerOptions['modelRoots'];
  viewport?: { width: number; height: number };
  /** Also record every HTTP response of 400 or more as an error. */
  recordHttpErrors?: boolean;
}

export interface Studio {
  /** The temp folder holding the data dir and the browser profile; removed by close(). */
  root: string;
  server: RunningServer;
  context: BrowserContext;
  page: Page;
  /** Page errors and console errors (and HTTP errors when asked), in order. */
  pageErrors: string[];
  /** Saves a screenshot of the page as test-results/NAME.png. */
  screenshot(name: string): Promise<void>;
  close(): Promise<void>;
}

export async function startStudio(options: StudioOptions): Promise<Studio> {
  assert.ok(existsSync(join(rendererDir, 'index.html')), `no renderer build in ${rendererDir}: run npx electron-vite build first`);
  assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}: apt-get install -y chromium`);
  mkdirSync(shots, { recursive: true });
  const root = mkdtempSync(join(tmpdir(), `atelier-e2e-${options.name}-`));
  let server: RunningServer | undefined;
  let context: BrowserContext | undefined;
  const close = async () => {
    await context?.close();
    await server?.close();
    rmSync(root, { recursive: true, force: true });
  };
  try {
    server = await startServer({ dataDir: join(root, 'data'), rendererDir, port: 0, modelRoots: options.modelRoots ?? [FIXTURE_MODELS] });
    context = await chromium.launchPersistentContext(join(root, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: options.viewport ?? { width: 1400, height: 860 },
    });
    const page = context.pages()[0] ?? (await context.newPage());
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(`pageerror: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(`console: ${message.text()}`);
    });
    if (options.recordHttpErrors) {
      page.on('response', (response) => {
        if (response.status() >= 400) pageErrors.push(`HTTP ${response.status()} for ${response.url()}`);
      });
    }
    return {
      root, server, context, page, pageErrors, close,
      screenshot: async (name) => {
        await page.screenshot({ path: join(shots, `${name}.png`) });
      },
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Runs generation on the CPU with one thread (set through the page's own API, as the studio would). */
export async function useCpu(page: Page): Promise<void> {
  await page.evaluate(() => (globalThis as unknown as { atelier: { settings: { set(i: unknown): Promise<unknown> } } }).atelier.settings.set({ executionProvider: 'cpu', threads: 1 }));
}

/** Types a prompt into the studio's prompt panel, presses Enter and waits until the result is in the
 * history gallery, or fails with the error the studio showed. */
export async function generateFromPrompt(page: Page, text: string): Promise<void> {
  const area = page.getByRole('form', { name: 'Prompt' }).locator('textarea[name=prompt]');
  const history = page.getByRole('region', { name: 'History' });
  await area.fill(text);
  await area.press('Enter');
  await Promise.race([
    history.getByTestId('history-item').filter({ hasText: text }).first().waitFor({ timeout: 60_000 }),
    page.getByTestId('error-banner').waitFor({ timeout: 60_000 }).then(async () => {
      throw new Error(`the studio reported: ${await page.getByTestId('error-banner').textContent()}`);
    }),
  ]);
}
