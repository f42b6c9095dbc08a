// electron-builder.yml: valid against electron-builder's own schema, the four installer targets,
// native modules unpacked from the asar, models shipped as extra resources where the shell looks.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';

const require = createRequire(import.meta.url);
const root = new URL('../../../', import.meta.url);

interface BuilderConfig {
  asarUnpack: string[];
  extraResources: { from: string; to: string }[];
  linux: { target: string[]; icon: string };
  win: { target: string[] };
  mac: { target: string[] };
  files: string[];
}

const yaml = require('js-yaml') as { load(text: string): unknown };
const config = yaml.load(readFileSync(new URL('electron-builder.yml', root), 'utf8')) as BuilderConfig;

test('electron-builder accepts the configuration', async () => {
  const { validateConfiguration } = require('app-builder-lib/out/util/config/config') as {
    validateConfiguration(config: unknown, logger: unknown): Promise<void>;
  };
  const { DebugLogger } = require('builder-util/out/DebugLogger') as { DebugLogger: new (enabled: boolean) => unknown };
  await validateConfiguration(config, new DebugLogger(false));
  // The check is real: a misspelt option is refused.
  await assert.rejects(validateConfiguration({ ...config, asarUnpak: ['x'] }, new DebugLogger(false)), /asarUnpak/);
});

test('installers for every platform, native modules outside the asar, models beside the app', () => {
  assert.deepEqual(config.linux.target, ['AppImage', 'deb']);
  assert.deepEqual(config.win.target, ['nsis']);
  assert.deepEqual(config.mac.target, ['dmg']);
  for (const native of ['better-sqlite3', 'onnxruntime-node', 'sharp']) {
    assert.ok(config.asarUnpack.includes(`node_modules/${native}/**`), native);
  }
  assert.deepEqual(config.extraResources.map(({ from, to }) => ({ from, to })), [{ from: 'resources/models', to: 'models' }]);
  // The shell reads bundled models from process.resourcesPath/models.
  assert.match(readFileSync(new URL('src-main/shell/main.ts', root), 'utf8'), /join\(process\.resourcesPath, 'models'\)/);
  assert.ok(config.files.includes('out/**'));
  assert.ok(existsSync(new URL(config.linux.icon, root)));
  // package.json's main is the shell entry electron-vite emits.
  assert.equal((JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { main: string }).main, 'out/main/index.js');
});

test('electron-vite: shell and job worker entries, a CommonJS sandboxed preload, the React renderer', async () => {
  const { BUILT_WORKER_NAME } = await import('../../../src-main/jobs/worker-url');
  const config = (await import('../../../electron.vite.config')).default as {
    main: { build: { rollupOptions: { input: Record<string, string> } } };
    preload: { build: { externalizeDeps: boolean; rollupOptions: { external: string[]; output: { format: string; entryFileNames: string } } } };
    renderer: { root: string; build: { outDir: string; rollupOptions: { input: Record<string, string> } } };
  };
  const input = config.main.build.rollupOptions.input;
  assert.match(input.index!, /src-main\/shell\/main\.ts$/);
  assert.match(input[BUILT_WORKER_NAME]!, /src-main\/jobs\/worker\.ts$/);
  assert.equal(config.preload.build.externalizeDeps, false);
  assert.deepEqual(config.preload.build.rollupOptions.external, ['electron']);
  assert.equal(config.preload.build.rollupOptions.output.format, 'cjs');
  // main.ts loads out/preload/index.cjs.
  assert.equal(config.preload.build.rollupOptions.output.entryFileNames, '[name].cjs');
  assert.match(config.renderer.build.rollupOptions.input.index!, /src-renderer\/index\.html$/);
  assert.equal(config.renderer.build.outDir, 'out/renderer');
});
