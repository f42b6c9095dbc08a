#!/usr/bin/env node
// Runs every test stage of Atelier and ends with one line "N passed, N failed".
// Stages: typecheck, lint, build, unit (node:test: tests/unit, tests/engine, tests/crash),
// pytest (modeling/tests), e2e (node:test + headless Chromium: tests/e2e).
// Usage: node scripts/test-all.mjs [stage ...]   (no stage = all, in that order)
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const python = existsSync(join(root, '.venv/bin/python')) ? join(root, '.venv/bin/python') : 'python3';

function findTests(dir, pattern = /\.test\.(ts|mjs|js)$/) {
  const abs = join(root, dir);
  if (!existsSync(abs)) return [];
  const out = [];
  for (const name of readdirSync(abs).sort()) {
    const p = join(abs, name);
    if (statSync(p).isDirectory()) out.push(...findTests(join(dir, name), pattern));
    else if (pattern.test(name)) out.push(relative(root, p));
  }
  return out;
}

/** Runs a command, streams its output, returns {code, text}. */
function run(cmd, args, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    const onData = (stream) => (chunk) => { text += chunk; stream.write(chunk); };
    child.stdout.on('data', onData(process.stdout));
    child.stderr.on('data', onData(process.stderr));
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), text }));
  });
}

/** A stage that is one check: passes when the command exits 0. */
const single = (cmd, args) => async () => {
  const { code } = await run(cmd, args);
  return { passed: code === 0 ? 1 : 0, failed: code === 0 ? 0 : 1 };
};

/** node:test files, TAP summary parsed ("# pass N", "# fail N", "# cancelled N"). */
const nodeTests = (dirs, concurrency) => async () => {
  const files = dirs.flatMap((d) => findTests(d));
  if (files.length === 0) { console.log(`(no test files in ${dirs.join(', ')})`); return { passed: 0, failed: 0 }; }
  const { code, text } = await run(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=tap', ...files]);
  const num = (key) => Number((text.match(new RegExp(`^# ${key} (\\d+)$`, 'm')) ?? [])[1] ?? 0);
  const passed = num('pass');
  let failed = num('fail') + num('cancelled');
  if (code !== 0 && failed === 0) failed = 1; // the runner itself failed
  return { passed, failed };
};

const pytest = async () => {
  if (findTests('modeling/tests', /^test_.*\.py$/).length === 0) { console.log('(no pytest files)'); return { passed: 0, failed: 0 }; }
  const { code, text } = await run(python, ['-m', 'pytest', 'modeling/tests', '-q', '-p', 'no:cacheprovider']);
  const last = text.trim().split('\n').reverse().find((l) => /\b(passed|failed|error)/.test(l)) ?? '';
  const n = (key) => Number((last.match(new RegExp(`(\\d+) ${key}`)) ?? [])[1] ?? 0);
  const passed = n('passed');
  let failed = n('failed') + n('error') + n('errors');
  if (code !== 0 && code !== 5 && failed === 0) failed = 1;
  return { passed, failed };
};

const stages = {
  typecheck: single('npx', ['tsc', '-p', 'tsconfig.node.json', '--noEmit']),
  'typecheck-web': single('npx', ['tsc', '-p', 'tsconfig.web.json', '--noEmit']),
  lint: single('npx', ['eslint', '.']),
  build: single('npx', ['electron-vite', 'build']),
  unit: nodeTests(['tests/unit', 'tests/engine', 'tests/crash'], 2),
  pytest,
  e2e: nodeTests(['tests/e2e'], 1),
};

const wanted = process.argv.slice(2);
const order = wanted.length ? wanted : Object.keys(stages);
let passed = 0;
let failed = 0;
const summary = [];
for (const name of order) {
  const stage = stages[name];
  if (!stage) { console.error(`unknown stage ${name}; stages: ${Object.keys(stages).join(', ')}`); process.exit(2); }
  console.log(`\n=== ${name} ===`);
  const t0 = Date.now();
  const r = await stage();
  passed += r.passed;
  failed += r.failed;
  summary.push(`${name}: ${r.passed} passed, ${r.failed} failed (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}
console.log('\n=== summary ===');
for (const line of summary) console.log(line);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
