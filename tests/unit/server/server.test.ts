// Browser mode over real HTTP and WebSocket on an ephemeral loopback port, with a real store and
// job queue in a temp data folder and a tiny renderer build of our own.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import type { RunningServer } from '../../../src-main/server/index';
import { startServer } from '../../../src-main/server/index';
import type { JobEvent } from '../../../src-shared/contract';
import { AtelierEvent } from '../../../src-shared/contract';

let root: string;
let server: RunningServer;

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'atelier-server-'));
  const rendererDir = join(root, 'renderer');
  mkdirSync(join(rendererDir, 'assets'), { recursive: true });
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><html><head><title>t</title></head><body><script type="module" src="/assets/app.js"></script></body></html>');
  writeFileSync(join(rendererDir, 'assets', 'app.js'), 'console.log("app")');
  writeFileSync(join(root, 'outside.txt'), 'not served');
  server = await startServer({ dataDir: join(root, 'data'), rendererDir, port: 0 });
});
after(async () => {
  await server.close();
  rmSync(root, { recursive: true, force: true });
});

function api(route: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${server.origin}/api/${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? '' : JSON.stringify(body),
  });
}
const bearer = () => ({ authorization: `Bearer ${server.token}` });

/** Raw request, for headers fetch will not let us set (Host). */
function raw(path: string, headers: Record<string, string>, method = 'GET'): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: server.port, path, method, headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

test('listens on loopback and prints a URL with a long random token', () => {
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{32}$/);
  assert.ok(server.port > 0);
});

test('requests without the token, or with a wrong one, are refused', async () => {
  const attempts: Record<string, string>[] = [{}, { authorization: 'Bearer nope' }, { authorization: `Bearer ${server.token}x` }, { authorization: server.token },
    { cookie: `atelier_token_${server.port}=wrong` }, { cookie: `atelier_token_${server.port + 1}=${server.token}` }];
  for (const headers of attempts) {
    const response = await api('settings.get', undefined, headers);
    assert.equal(response.status, 401, JSON.stringify(headers));
    const body = (await response.json()) as { ok: boolean; error: { code: string } };
    assert.equal(body.ok, false);
    assert.equal(body.error.code, 'FORBIDDEN');
  }
  assert.equal((await fetch(`${server.origin}/`)).status, 401);
  assert.equal((await fetch(`${server.origin}/assets/app.js`)).status, 401);
  assert.equal((await fetch(`${server.origin}/?token=guess`, { redirect: 'manual' })).status, 401);
});

test('a foreign Origin or Host is refused even with the token', async () => {
  for (const origin of ['http://evil.example', 'http://127.0.0.1:1', 'null', `https://127.0.0.1:${server.port}`]) {
    const response = await api('settings.get', undefined, { ...bearer(), origin });
    assert.equal(response.status, 403, origin);
  }
  // Our own origin is fine.
  assert.equal((await api('settings.get', undefined, { ...bearer(), origin: server.origin })).status, 200);
  // A DNS-rebinding page reaches us under its own host name.
  assert.equal(await raw('/api/settings.get', { ...bearer(), host: `evil.example:${server.port}`, 'content-type': 'application/json' }, 'POST'), 403);
  assert.equal(await raw('/', { ...bearer(), host: `localhost:${server.port}` }), 200);
});

test('a valid route round trip: settings saved and read back; validation errors typed', async () => {
  const set = await api('settings.set', { theme: 'light', defaultSteps: 33 }, bearer());
  assert.equal(set.status, 200);
  assert.equal(((await set.json()) as { ok: boolean }).ok, true);
  const got = (await (await api('settings.get', undefined, bearer())).json()) as { ok: true; data: { theme: string; defaultSteps: number } };
  assert.equal(got.data.theme, 'light');
  assert.equal(got.data.defaultSteps, 33);

  const bad = (await (await api('settings.set', { theme: 'neon' }, bearer())).json()) as { ok: false; error: { code: string } };
  assert.equal(bad.error.code, 'VALIDATION');
  const notJson = await fetch(`${server.origin}/api/settings.set`, { method: 'POST', headers: { ...bearer(), 'content-type': 'application/json' }, body: '{' });
  assert.equal(notJson.status, 400);
  // Form posts (no preflight) are refused by content type.
  const form = await fetch(`${server.origin}/api/settings.set`, { method: 'POST', headers: { ...bearer(), 'content-type': 'text/plain' }, body: '{"theme":"dark"}' });
  assert.equal(form.status, 415);
  assert.equal((await fetch(`${server.origin}/api/settings.get`, { headers: bearer() })).status, 405);
});

test('the token in the URL becomes an HttpOnly SameSite cookie that then authorises the page', async () => {
  const first = await fetch(server.url, { redirect: 'manual' });
  assert.equal(first.status, 303);
  assert.equal(first.headers.get('location'), '/');
  const cookie = first.headers.get('set-cookie') ?? '';
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /SameSite=Strict/);
  const pair = cookie.split(';')[0]!;

  const page = await fetch(`${server.origin}/`, { headers: { cookie: pair } });
  assert.equal(page.status, 200);
  const csp = page.headers.get('content-security-policy') ?? '';
  assert.match(csp, /script-src 'self'/);
  assert.doesNotMatch(csp, /unsafe/);
  const html = await page.text();
  // The bridge loads before the app so window.atelier exists when the app starts.
  assert.ok(html.indexOf('/__atelier/bridge.js') < html.indexOf('/assets/app.js'));
  const bridge = await fetch(`${server.origin}/__atelier/bridge.js`, { headers: { cookie: pair } });
  assert.match(await bridge.text(), /"settings":\["get","set"\]/);
  assert.equal((await fetch(`${server.origin}/assets/app.js`, { headers: { cookie: pair } })).status, 200);
  assert.equal((await api('app.info', undefined, { cookie: pair })).status, 200);
});

test('static files and data files stay inside their folders', async () => {
  for (const path of ['/../outside.txt', '/%2e%2e/outside.txt', '/assets/%2e%2e/%2e%2e/outside.txt', '/files/atelier.db', '/files/images/../atelier.db', '/files/%2e%2e/outside.txt']) {
    const status = await raw(path, bearer());
    assert.ok(status === 403 || status === 404, `${path} → ${status}`);
  }
});

test('the events socket needs the token and our Origin, and carries job events', async () => {
  const url = `ws://127.0.0.1:${server.port}/events`;
  const refused = (headers: Record<string, string>) =>
    new Promise<number>((resolve) => {
      const socket = new WebSocket(url, { headers });
      socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      socket.on('open', () => {
        socket.close();
        resolve(101);
      });
      socket.on('error', () => {});
    });
  assert.equal(await refused({}), 401);
  assert.equal(await refused({ ...bearer(), origin: 'http://evil.example' }), 403);

  const socket = new WebSocket(url, { headers: { ...bearer(), origin: server.origin } });
  await new Promise((resolve, reject) => {
    socket.on('open', resolve);
    socket.on('error', reject);
  });
  const events: JobEvent[] = [];
  const finished = new Promise<void>((resolve) => {
    socket.on('message', (data) => {
      const event = AtelierEvent.parse(JSON.parse(String(data)));
      if (event.name !== 'jobs.event') return;
      events.push(event.data);
      if (event.data.type === 'result') resolve();
    });
  });
  const submitted = (await (await api('jobs.submit', { kind: 'diagnostics.count', params: { n: 3, delayMs: 5, preview: true } }, bearer())).json()) as { data: { jobId: string } };
  await finished;
  socket.close();
  const types = events.filter((e) => e.jobId === submitted.data.jobId).map((e) => e.type);
  assert.deepEqual(types.filter((t) => t === 'progress').length, 3);
  assert.ok(types.includes('preview'));
  assert.equal(types[types.length - 1], 'result');
});
