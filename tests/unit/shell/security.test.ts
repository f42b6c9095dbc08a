// The Electron shell's security options and decisions, checked in plain Node (no Electron binary):
// these are the exact objects main.ts hands to BrowserWindow, the funnel and the link handler.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isPng, saveImageOptions } from '../../../src-main/shell/dialog-options';
import { menuTemplate } from '../../../src-main/shell/menu';
import {
  APP_INDEX_URL, ExternalLinkPolicy, PRIVILEGED_SCHEMES, STUDIO_CSP, USER_ACTION_WINDOW_MS, isExternalLink, isTrustedAppUrl,
  isTrustedSender, isUserInput, windowOptions,
} from '../../../src-main/shell/security';

test('the window is isolated, sandboxed and without Node', () => {
  const options = windowOptions('/app/out/preload/index.cjs');
  const web = options.webPreferences!;
  assert.equal(web.contextIsolation, true);
  assert.equal(web.sandbox, true);
  assert.equal(web.nodeIntegration, false);
  assert.equal(web.nodeIntegrationInWorker, false);
  assert.equal(web.nodeIntegrationInSubFrames, false);
  assert.equal(web.webSecurity, true);
  assert.equal(web.allowRunningInsecureContent, false);
  assert.equal(web.webviewTag, false);
  assert.equal(web.experimentalFeatures, false);
  assert.equal(web.preload, '/app/out/preload/index.cjs');
});

test('the CSP allows only our own scripts and styles, no eval, no inline, no framing', () => {
  const directives = Object.fromEntries(STUDIO_CSP.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name, values]));
  assert.deepEqual(directives['script-src'], ["'self'"]);
  assert.deepEqual(directives['default-src'], ["'self'"]);
  assert.deepEqual(directives['object-src'], ["'none'"]);
  assert.deepEqual(directives['frame-ancestors'], ["'none'"]);
  assert.deepEqual(directives['base-uri'], ["'none'"]);
  assert.ok(directives['img-src']?.includes('atelier-image:'));
  assert.doesNotMatch(STUDIO_CSP, /unsafe-(inline|eval)|\*/);
});

test('only the top frame of our own page is a trusted sender', () => {
  assert.equal(isTrustedSender({ url: APP_INDEX_URL, parent: null }), true);
  assert.equal(isTrustedSender({ url: 'atelier-app://studio/deep/page', parent: null }), true);
  assert.equal(isTrustedSender({ url: APP_INDEX_URL, parent: {} }), false, 'a subframe');
  for (const url of ['https://example.com/', 'file:///app/out/renderer/index.html', 'atelier-app://evil/index.html',
    'atelier-image://local/images/a.png', 'about:blank', 'data:text/html,hi', '', 'not a url']) {
    assert.equal(isTrustedSender({ url, parent: null }), false, url);
  }
  assert.equal(isTrustedSender(null), false);
  assert.equal(isTrustedSender(undefined), false);
  // The dev server is trusted only when given, and only its own origin.
  assert.equal(isTrustedAppUrl('http://localhost:5173/index.html'), false);
  assert.equal(isTrustedAppUrl('http://localhost:5173/index.html', 'http://localhost:5173'), true);
  assert.equal(isTrustedAppUrl('http://localhost:5174/', 'http://localhost:5173'), false);
});

test('external links: http(s) only, and only right after a person acted', () => {
  for (const url of ['https://example.com', 'http://example.com/a?b']) assert.equal(isExternalLink(url), true);
  for (const url of ['file:///etc/passwd', 'javascript:alert(1)', 'atelier-app://studio/', 'smb://host/share', 'mailto:a@b', 'nope']) {
    assert.equal(isExternalLink(url), false, url);
  }
  const policy = new ExternalLinkPolicy();
  assert.equal(policy.shouldOpen('https://example.com', 1000), false, 'no input yet');
  policy.recordUserInput(1000);
  assert.equal(policy.shouldOpen('https://example.com', 1000 + USER_ACTION_WINDOW_MS), true);
  assert.equal(policy.shouldOpen('file:///etc/passwd', 1001), false);
  assert.equal(policy.shouldOpen('https://example.com', 1000 + USER_ACTION_WINDOW_MS + 1), false, 'too long after the click');
  assert.equal(isUserInput('mouseDown'), true);
  assert.equal(isUserInput('keyDown'), true);
  assert.equal(isUserInput('mouseMove'), false);
});

test('privileged schemes ask for no more than they need', () => {
  for (const { privileges } of PRIVILEGED_SCHEMES) {
    assert.equal('bypassCSP' in privileges, false);
    assert.equal('corsEnabled' in privileges, false);
    assert.equal(privileges.secure, true);
  }
});

test('menu and dialogs', () => {
  const opened: string[] = [];
  const template = menuTemplate({ isMac: false, isDev: false, actions: { openImage: () => opened.push('open') } });
  const file = template.find((item) => item.label === 'File');
  const open = (file?.submenu as { label?: string; click?: () => void }[]).find((item) => item.label === 'Open Image…');
  open?.click?.();
  assert.deepEqual(opened, ['open']);
  const view = JSON.stringify(template.find((item) => item.label === 'View'));
  assert.doesNotMatch(view, /toggleDevTools/, 'no devtools in a packaged app');
  assert.match(JSON.stringify(menuTemplate({ isMac: false, isDev: true, actions: { openImage() {} } })), /toggleDevTools/);

  assert.equal(saveImageOptions('../../etc/passwd').defaultPath, '.._.._etc_passwd.png');
  assert.equal(saveImageOptions('fox.png').defaultPath, 'fox.png');
  assert.equal(isPng(Buffer.from('89504e470d0a1a0a0000', 'hex')), true);
  assert.equal(isPng(Buffer.from('GIF89a-not-png')), false);
});
