// The bridge script browser mode serves, run in a VM with stand-ins for fetch and WebSocket: the same
// window.atelier shape as the preload, each method one POST, failures turned into envelopes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import vm from 'node:vm';
import { browserBridgeScript } from '../../../src-main/server/browser-bridge';
import { ROUTE_NAMES, domainsOf } from '../../../src-shared/contract';

interface FakeResponse {
  status: number;
  text(): Promise<string>;
}

function loadBridge(fetchImpl: (url: string, init: { method: string; body: string; headers: Record<string, string> }) => Promise<FakeResponse>) {
  const sockets: { url: string; onmessage?: (m: { data: string }) => void; onclose?: () => void; close(): void; closed: boolean }[] = [];
  class FakeWebSocket {
    onmessage?: (m: { data: string }) => void;
    onclose?: () => void;
    onopen?: () => void;
    closed = false;
    constructor(readonly url: string) {
      sockets.push(this);
    }
    close() {
      this.closed = true;
    }
  }
  const window: Record<string, unknown> = {};
  vm.runInNewContext(browserBridgeScript(), {
    window,
    fetch: fetchImpl,
    WebSocket: FakeWebSocket,
    location: { protocol: 'http:', host: '127.0.0.1:4000' },
    console,
    setTimeout,
    Set,
    Object,
    JSON,
  });
  return { atelier: window.atelier as Record<string, Record<string, (input?: unknown) => Promise<unknown>>>, sockets };
}

const reply = (status: number, body: string): Promise<FakeResponse> => Promise.resolve({ status, text: () => Promise.resolve(body) });

test('the bridge has the preload shape and posts each route with its input', async () => {
  const calls: { url: string; body: string; method: string }[] = [];
  const { atelier } = loadBridge((url, init) => {
    calls.push({ url, body: init.body, method: init.method });
    return reply(200, JSON.stringify({ ok: true, data: { echo: url } }));
  });
  assert.deepEqual(
    Object.fromEntries(Object.entries(atelier).map(([d, m]) => [d, Object.keys(m)])),
    { ...domainsOf(ROUTE_NAMES), events: ['on'] },
  );
  assert.ok(Object.isFrozen(atelier));
  assert.deepEqual(await atelier.settings!.set!({ threads: 2 }), { ok: true, data: { echo: '/api/settings.set' } });
  await atelier.app!.info!();
  assert.deepEqual(calls, [
    { url: '/api/settings.set', body: '{"threads":2}', method: 'POST' },
    { url: '/api/app.info', body: '', method: 'POST' },
  ]);
});

test('failures become envelopes: refused, not JSON, unreachable', async () => {
  const responses = [reply(401, JSON.stringify({ ok: false, error: { code: 'FORBIDDEN', message: 'token' } })), reply(502, '<html>bad gateway'), reply(403, 'nope'), Promise.reject(new TypeError('network'))];
  const { atelier } = loadBridge(() => responses.shift()!);
  const codes = [];
  for (let i = 0; i < 4; i++) codes.push(((await atelier.app!.info!()) as { error: { code: string } }).error.code);
  assert.deepEqual(codes, ['FORBIDDEN', 'INTERNAL', 'FORBIDDEN', 'UNAVAILABLE']);
});

test('events: one socket while someone listens, closed when the last one leaves', () => {
  const { atelier, sockets } = loadBridge(() => reply(200, '{}'));
  const seen: unknown[] = [];
  const events = atelier.events as unknown as { on(listener: (e: unknown) => void): () => void };
  assert.equal(sockets.length, 0, 'no socket until someone listens');
  const off = events.on((e) => seen.push(e));
  const offToo = events.on(() => {});
  assert.equal(sockets.length, 1);
  assert.equal(sockets[0]!.url, 'ws://127.0.0.1:4000/events');
  sockets[0]!.onmessage?.({ data: '{"name":"jobs.event","data":{"type":"started"}}' });
  sockets[0]!.onmessage?.({ data: 'not json' });
  assert.deepEqual(seen, [{ name: 'jobs.event', data: { type: 'started' } }]);
  off();
  assert.equal(sockets[0]!.closed, false);
  offToo();
  assert.equal(sockets[0]!.closed, true);
});
