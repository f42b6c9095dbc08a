// End to end: browser mode in headless Debian Chromium, driven as a person would. Expects the
// renderer build in out/renderer (`npx electron-vite build`; `npm run test:e2e` builds first).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import type { RunningServer } from '../../src-main/server/index';
import { ROUTE_NAMES, domainsOf } from '../../src-shared/contract';
import type { Studio } from './harness';
import { startStudio } from './harness';

let studio: Studio;
let server: RunningServer;
let context: BrowserContext;
let page: Page;

// This file compiles without the DOM library; code run inside the page reaches its globals
// through this narrow view.
interface PageGlobals {
  atelier: Record<string, Record<string, (input?: unknown) => Promise<{ ok: boolean; data?: unknown; error?: { code: string } }>>>;
  document: {
    documentElement: { dataset: Record<string, string | undefined> };
    querySelector(selector: string): { textContent: string | null } | null;
  };
}

before(async () => {
  studio = await startStudio({ name: 'studio', recordHttpErrors: true });
  ({ server, context, page } = studio);
});

after(() => studio?.close());

test('the studio opens with its token, and window.atelier has the contract shape', async () => {
  await page.goto(server.url);
  // The token was traded for a cookie and left the address bar.
  assert.equal(new URL(page.url()).search, '');
  await page.getByRole('heading', { name: 'Atelier' }).waitFor();
  await page.getByText(/Atelier 0\.\d+\.\d+ · data in /).waitFor();

  const shape = await page.evaluate(() => {
    const api = (globalThis as unknown as PageGlobals).atelier;
    return {
      frozen: Object.isFrozen(api),
      domains: Object.fromEntries(Object.entries(api).map(([domain, methods]) => [domain, Object.keys(methods).sort()])),
    };
  });
  const expected = Object.fromEntries(Object.entries(domainsOf(ROUTE_NAMES)).map(([d, m]) => [d, [...m].sort()]));
  assert.deepEqual(shape, { frozen: true, domains: { ...expected, events: ['on'] } });
});

test('a setting is saved and read back after a reload', async () => {
  await page.getByRole('button', { name: 'Settings' }).click();
  const panel = page.getByRole('region', { name: 'Settings' });
  await panel.locator('select[name=executionProvider]').selectOption('cpu');
  await panel.locator('input[name=threads]').fill('3');
  await panel.locator('select[name=theme]').selectOption('light');
  await panel.getByRole('button', { name: 'Save settings' }).click();
  await panel.getByRole('status').filter({ hasText: 'Saved' }).waitFor();

  await page.reload();
  await page.getByRole('button', { name: 'Settings' }).click();
  const reloaded = page.getByRole('region', { name: 'Settings' });
  await reloaded.locator('select[name=executionProvider]').waitFor();
  assert.equal(await reloaded.locator('select[name=executionProvider]').inputValue(), 'cpu');
  assert.equal(await reloaded.locator('input[name=threads]').inputValue(), '3');
  assert.equal(await page.evaluate(() => (globalThis as unknown as PageGlobals).document.documentElement.dataset.theme), 'light');

  // The same value through the contract from outside the page: it is in the store, not the page.
  const response = await fetch(`${server.origin}/api/settings.get`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
  });
  const body = (await response.json()) as { ok: true; data: { executionProvider: string; threads: number } };
  assert.equal(body.data.executionProvider, 'cpu');
  assert.equal(body.data.threads, 3);
  await studio.screenshot('studio-settings');
});

test('a queued job shows its progress and preview, and is cancelled', async () => {
  await page.getByRole('region', { name: 'Settings' }).getByRole('button', { name: 'Run queue self-test' }).click();
  await page.getByRole('button', { name: 'Jobs' }).click();
  const job = page.getByTestId('job').filter({ hasText: 'diagnostics.count' }).first();
  await job.and(page.locator('[data-state=running]')).waitFor();
  // Progress moves: wait for at least 3 of 100 steps, read it twice to see it grow.
  await job.getByTestId('job-progress').filter({ hasText: /\b([3-9]|[1-9]\d) \/ 100\b/ }).waitFor();
  const first = Number((await job.getByTestId('job-progress').textContent())?.match(/(\d+) \/ 100/)?.[1]);
  await page.waitForFunction(
    (before) => Number((globalThis as unknown as PageGlobals).document.querySelector('[data-testid=job-progress]')?.textContent?.match(/(\d+) \/ 100/)?.[1]) > before,
    first,
  );
  const bar = await job.locator('progress').evaluate((el) => ({ value: (el as unknown as { value: number }).value, max: (el as unknown as { max: number }).max }));
  assert.equal(bar.max, 100);
  assert.ok(bar.value >= 3 && bar.value < 100, `progress bar at ${bar.value}`);
  await job.getByTestId('job-preview').waitFor();
  assert.match((await job.getByTestId('job-preview').getAttribute('src')) ?? '', /^data:image\/png;base64,/);
  await studio.screenshot('studio-job-running');

  await job.getByRole('button', { name: 'Cancel' }).click();
  await job.and(page.locator('[data-state=cancelled]')).waitFor();
  assert.equal(await job.getByTestId('job-state').textContent(), 'cancelled');
  assert.equal(await job.getByRole('button', { name: 'Cancel' }).count(), 0);
  const stoppedAt = Number((await job.getByTestId('job-progress').textContent())?.match(/(\d+) \/ 100/)?.[1]);
  assert.ok(stoppedAt < 100, 'cancelled before the end');
  // It really stopped: no more steps arrive.
  await page.waitForTimeout(500);
  assert.equal(Number((await job.getByTestId('job-progress').textContent())?.match(/(\d+) \/ 100/)?.[1]), stoppedAt);
  await studio.screenshot('studio-job-cancelled');

  // The queue agrees.
  const listed = await page.evaluate(async () => {
    const result = await (globalThis as unknown as PageGlobals).atelier.jobs!.list!();
    return (result.data as { jobs: { state: string }[] }).jobs.map((j) => j.state);
  });
  assert.deepEqual(listed, ['cancelled']);
});

test('Generate makes an image that lands on the stage and in history, served by the studio', { timeout: 120_000 }, async () => {
  const prompt = page.getByRole('form', { name: 'Prompt' });
  await prompt.locator('select[name=model]').selectOption('bundle-fixture');
  await prompt.locator('textarea[name=prompt]').fill('a lighthouse on a cliff');
  await prompt.locator('input[name=steps]').fill('2');
  await prompt.getByRole('button', { name: 'Generate' }).click();
  const job = page.getByTestId('job').filter({ hasText: 'image.generate' }).first();
  await job.and(page.locator('[data-state=done]')).waitFor({ timeout: 90_000 });

  const item = page.getByTestId('history-item').filter({ hasText: 'a lighthouse on a cliff' });
  await item.waitFor();
  // The result is the canvas's current image.
  const canvas = page.getByTestId('canvas');
  await canvas.and(page.locator('[data-current-url^="/files/"]')).waitFor();
  const src = (await canvas.getAttribute('data-current-url')) ?? '';
  assert.match(src, /^\/files\/images\/[0-9a-f]{2}\/[0-9a-f]{62}\.png$/);
  assert.equal(await item.locator('img').getAttribute('src'), src);
  // The browser really loaded the file (through the cookie), not just a URL.
  await page.waitForFunction(() => {
    const img = (globalThis as unknown as { document: { querySelector(s: string): { complete: boolean; naturalWidth: number } | null } }).document.querySelector('[data-testid=history-item] img');
    return !!img && img.complete && img.naturalWidth > 0;
  });
  // And the file is refused to anyone without the token.
  assert.equal((await fetch(`${server.origin}${src}`)).status, 401);
  await studio.screenshot('studio-generated');
});

test('history: favourite, filter, delete (and the file goes with it)', async () => {
  const history = page.getByRole('region', { name: 'History' });
  const item = history.getByTestId('history-item').first();
  const src = (await item.locator('img').getAttribute('src')) ?? '';
  const withToken = { headers: { authorization: `Bearer ${server.token}` } };
  assert.equal((await fetch(`${server.origin}${src}`, withToken)).status, 200);
  await item.getByRole('button', { name: 'favourite' }).click();
  await item.locator('button.star.on').waitFor();
  await history.getByRole('checkbox').check();
  await history.getByTestId('history-item').first().waitFor();
  assert.equal(await history.getByTestId('history-item').count(), 1);
  await history.getByRole('searchbox').fill('submarine');
  await history.getByText('Nothing here yet.').waitFor();
  await history.getByRole('searchbox').fill('lighthouse');
  await history.getByTestId('history-item').first().waitFor();

  await history.getByTestId('history-item').first().getByRole('button', { name: 'delete' }).click();
  await history.getByText('Nothing here yet.').waitFor();
  // Asked from outside the page (its cache may keep the immutable image): the file is gone.
  const response = await fetch(`${server.origin}${src}`, withToken);
  assert.equal(response.status, 404, 'the image file was deleted with its history item');
});

test('an invalid call from the page gets a typed validation error', async () => {
  const result = await page.evaluate(async () => {
    return (globalThis as unknown as PageGlobals).atelier.settings!.set!({ threads: -5 });
  });
  assert.deepEqual((result as { ok: boolean; error: { code: string } }).ok, false);
  assert.equal((result as { error: { code: string } }).error.code, 'VALIDATION');
});

test('requests without the token are refused', async () => {
  const post = (headers: Record<string, string>) =>
    fetch(`${server.origin}/api/settings.get`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } });
  assert.equal((await post({})).status, 401);
  assert.equal((await post({ authorization: 'Bearer not-the-token' })).status, 401);
  assert.equal((await fetch(`${server.origin}/`)).status, 401);
  assert.equal((await post({ authorization: `Bearer ${server.token}`, origin: 'http://evil.example' })).status, 403);
  // A browser without the cookie sees no studio either.
  const other = await context.newPage();
  await context.clearCookies();
  const refused = await other.goto(`${server.origin}/`);
  assert.equal(refused?.status(), 401);
  await other.close();
});

test('no errors in the page (CSP violations included)', () => {
  assert.deepEqual(studio.pageErrors, []);
});
