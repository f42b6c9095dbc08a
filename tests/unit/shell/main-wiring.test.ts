// The Electron shell's main.ts, run in plain Node against a recording stand-in for `electron`
// (the binary cannot be installed here): what it registers before ready, the window it opens, how
// the one IPC channel treats trusted and untrusted frames, navigation and link handling, both
// protocols, job events pushed to the window, and a clean shutdown. Real store and job queue.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { register } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { APP_INDEX_URL, PRIVILEGED_SCHEMES, STUDIO_CSP, windowOptions } from '../../../src-main/shell/security';
import { EVENT_CHANNEL, INVOKE_CHANNEL } from '../../../src-shared/contract';
import type * as FakeElectron from './fake-electron';
import type { FakeBrowserWindow } from './fake-electron';

const fakeUrl = pathToFileURL(new URL('./fake-electron.ts', import.meta.url).pathname).href;
register(
  `data:text/javascript,${encodeURIComponent(`export async function resolve(specifier, context, next) {
    if (specifier === 'electron') return next(${JSON.stringify(fakeUrl)}, context);
    return next(specifier, context);
  }`)}`,
);

type Fake = typeof FakeElectron;
let fake: Fake;
let root: string;
let win: FakeBrowserWindow;
const trustedFrame = { url: APP_INDEX_URL, parent: null };
const invoke = (frame: unknown, route: string, input?: unknown) =>
  fake.recorded.ipcHandlers.get(INVOKE_CHANNEL)!({ senderFrame: frame }, route, input) as Promise<{ ok: boolean; data?: unknown; error?: { code: string } }>;

async function until(check: () => boolean, what: string) {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(check(), what);
}

before(async () => {
  fake = (await import('electron')) as unknown as Fake;
  assert.ok('recorded' in fake, 'electron resolves to the stand-in');
  root = mkdtempSync(join(tmpdir(), 'atelier-shell-'));
  fake.paths.userData = join(root, 'userData');
  fake.paths.appPath = join(root, 'app');
  mkdirSync(join(fake.paths.appPath, 'out', 'renderer'), { recursive: true });
  writeFileSync(join(fake.paths.appPath, 'out', 'renderer', 'index.html'), '<!doctype html><title>studio</title>');
  await import('../../../src-main/shell/main');
});

after(async () => {
  // Shut down the way Electron does: before-quit, which waits for the core to close.
  const beforeQuit = fake.recorded.appListeners.get('before-quit')?.[0];
  if (beforeQuit) {
    let prevented = false;
    beforeQuit({ preventDefault: () => (prevented = true) });
    assert.ok(prevented, 'quit waits for the core');
    await until(() => fake.recorded.quitCalls === 1, 'app.quit after the core closed');
  }
  rmSync(root, { recursive: true, force: true });
});

test('before ready: single-instance lock and the privileged schemes', () => {
  assert.equal(fake.recorded.singleInstanceLockRequested, true);
  assert.deepEqual(fake.recorded.schemes, PRIVILEGED_SCHEMES.map((s) => ({ scheme: s.scheme, privileges: { ...s.privileges } })));
  assert.equal(fake.recorded.ipcHandlers.size, 0, 'nothing served before ready');
});

test('when ready: one IPC channel, both protocols, the menu and a locked-down window', async () => {
  fake.becomeReady();
  await until(() => fake.recorded.windows.length === 1, 'a window opens');
  win = fake.recorded.windows[0]!;
  assert.deepEqual([...fake.recorded.ipcHandlers.keys()], [INVOKE_CHANNEL]);
  assert.deepEqual([...fake.recorded.protocolHandlers.keys()].sort(), ['atelier-app', 'atelier-image']);
  assert.ok(Array.isArray(fake.recorded.menu));
  assert.deepEqual(win.options, windowOptions(join(fake.paths.appPath, 'out', 'preload', 'index.cjs')));
  assert.equal(win.loadedUrl, APP_INDEX_URL);
  assert.equal(win.webContents.permissionCheckHandler?.(), false);
  let granted: boolean | null = null;
  win.webContents.permissionRequestHandler?.(null, 'media', (ok: boolean) => (granted = ok));
  assert.equal(granted, false);
});

test('the IPC channel answers our top frame and refuses anything else', async () => {
  const info = await invoke(trustedFrame, 'app.info');
  assert.equal(info.ok, true);
  assert.deepEqual(info.data, { name: 'Atelier', version: '9.9.9-test', dataDir: fake.paths.userData, schemaVersion: (info.data as { schemaVersion: number }).schemaVersion });
  for (const frame of [{ url: APP_INDEX_URL, parent: {} }, { url: 'https://example.com/', parent: null }, { url: 'file:///x/index.html', parent: null }, null]) {
    const refused = await invoke(frame, 'settings.set', { threads: 1 });
    assert.equal(refused.error?.code, 'FORBIDDEN', JSON.stringify(frame));
  }
  assert.equal((await invoke(trustedFrame, 'settings.set', { threads: 'x' })).error?.code, 'VALIDATION');
});

test('navigation is refused; links leave only as http(s) right after a click', () => {
  const contents = win.webContents;
  let prevented = 0;
  contents.listeners.get('will-navigate')!({ preventDefault: () => prevented++ }, 'https://example.com');
  contents.listeners.get('will-redirect')!({ preventDefault: () => prevented++ }, 'https://example.com');
  assert.equal(prevented, 2);

  assert.deepEqual(contents.openHandler!({ url: 'https://example.com/docs' }), { action: 'deny' });
  assert.deepEqual(fake.recorded.openedExternally, [], 'no click, no browser');
  contents.listeners.get('input-event')!({}, { type: 'mouseMove' });
  contents.openHandler!({ url: 'https://example.com/docs' });
  assert.deepEqual(fake.recorded.openedExternally, [], 'moving the mouse is not a click');
  contents.listeners.get('input-event')!({}, { type: 'mouseDown' });
  assert.deepEqual(contents.openHandler!({ url: 'file:///etc/passwd' }), { action: 'deny' });
  assert.deepEqual(contents.openHandler!({ url: 'https://example.com/docs' }), { action: 'deny' });
  assert.deepEqual(fake.recorded.openedExternally, ['https://example.com/docs']);
});

test('protocols: the renderer with the CSP; images only from the data folder', async () => {
  const page = await fake.recorded.protocolHandlers.get('atelier-app')!(new Request(APP_INDEX_URL));
  assert.equal(page.status, 200);
  assert.equal(page.headers.get('content-security-policy'), STUDIO_CSP);
  assert.match(await page.text(), /<title>studio<\/title>/);
  assert.equal((await fake.recorded.protocolHandlers.get('atelier-app')!(new Request('atelier-app://other/index.html'))).status, 404);

  mkdirSync(join(fake.paths.userData, 'images', 'ab'), { recursive: true });
  writeFileSync(join(fake.paths.userData, 'images', 'ab', 'cd.png'), 'png');
  const image = fake.recorded.protocolHandlers.get('atelier-image')!;
  const ok = await image(new Request('atelier-image://local/images/ab/cd.png'));
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get('content-type'), 'image/png');
  for (const url of ['atelier-image://local/images/%2e%2e/atelier.db', 'atelier-image://local/atelier.db', 'atelier-image://local/images/ab/..%2F..%2Fatelier.db']) {
    assert.ok([400, 403].includes((await image(new Request(url))).status), url);
  }
});

test('job events are pushed to the window on the event channel', async () => {
  const submitted = await invoke(trustedFrame, 'jobs.submit', { kind: 'diagnostics.count', params: { n: 2, delayMs: 1 } });
  assert.ok(submitted.ok);
  const jobId = (submitted.data as { jobId: string }).jobId;
  const types = () => win.webContents.sent
    .filter((m) => m.channel === EVENT_CHANNEL && (m.payload as { data: { jobId: string } }).data.jobId === jobId)
    .map((m) => (m.payload as { data: { type: string } }).data.type);
  await until(() => types().includes('result'), 'the result reaches the window');
  assert.deepEqual(types().filter((t) => t === 'progress').length, 2);
});
