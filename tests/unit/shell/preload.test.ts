// The preload, bundled the way it ships (one CommonJS file, only `electron` external) and run in a
// bare VM context with a recording stand-in for electron: it exposes `atelier` and nothing else,
// one object per domain, each method one invoke on the single channel, plus events.on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import vm from 'node:vm';
import { build } from 'esbuild';
import { EVENT_CHANNEL, INVOKE_CHANNEL, ROUTE_NAMES, domainsOf } from '../../../src-shared/contract';

async function loadPreload() {
  const bundled = await build({
    entryPoints: [new URL('../../../src-preload/index.ts', import.meta.url).pathname],
    bundle: true,
    format: 'cjs',
    platform: 'node',
    external: ['electron'],
    write: false,
    logLevel: 'silent',
  });
  const code = bundled.outputFiles[0]!.text;
  const exposed: Record<string, unknown> = {};
  const invocations: unknown[][] = [];
  const ipcListeners = new Map<string, (event: unknown, payload: unknown) => void>();
  const required: string[] = [];
  const electron = {
    contextBridge: { exposeInMainWorld: (key: string, value: unknown) => { exposed[key] = value; } },
    ipcRenderer: {
      invoke: async (...args: unknown[]) => { invocations.push(args); return { ok: true, data: null }; },
      on: (channel: string, listener: (event: unknown, payload: unknown) => void) => { ipcListeners.set(channel, listener); },
    },
  };
  const module = { exports: {} };
  vm.runInNewContext(code, {
    module,
    exports: module.exports,
    console,
    require: (name: string) => {
      required.push(name);
      if (name !== 'electron') throw new Error(`a sandboxed preload cannot require ${name}`);
      return electron;
    },
  });
  return { exposed, invocations, ipcListeners, required, code };
}

test('exposes exactly window.atelier, shaped by the contract, over one channel', async () => {
  const { exposed, invocations, ipcListeners, required } = await loadPreload();
  assert.deepEqual(required, ['electron']);
  assert.deepEqual(Object.keys(exposed), ['atelier']);
  const atelier = exposed.atelier as Record<string, Record<string, (input?: unknown) => Promise<unknown>>>;
  const expected = { ...domainsOf(ROUTE_NAMES), events: ['on'] };
  assert.deepEqual(Object.fromEntries(Object.entries(atelier).map(([d, m]) => [d, Object.keys(m)])), expected);
  assert.ok(Object.isFrozen(atelier) && Object.values(atelier).every(Object.isFrozen));

  for (const route of ROUTE_NAMES) {
    const [domain, method] = route.split('.') as [string, string];
    await atelier[domain]![method]!({ probe: route });
  }
  assert.deepEqual(invocations, ROUTE_NAMES.map((route) => [INVOKE_CHANNEL, route, { probe: route }]));
  assert.deepEqual([...ipcListeners.keys()], [EVENT_CHANNEL]);
});

test('events.on delivers pushed events until unsubscribed', async () => {
  const { exposed, ipcListeners } = await loadPreload();
  const events = (exposed.atelier as { events: { on(listener: (event: unknown) => void): () => void } }).events;
  const seen: unknown[] = [];
  const off = events.on((event) => seen.push(event));
  const push = ipcListeners.get(EVENT_CHANNEL)!;
  push({ sender: 'ignored' }, { name: 'jobs.event', data: { n: 1 } });
  off();
  push({}, { name: 'jobs.event', data: { n: 2 } });
  assert.deepEqual(seen, [{ name: 'jobs.event', data: { n: 1 } }]);
  assert.throws(() => events.on('not a function' as never), { name: 'TypeError' });
});
