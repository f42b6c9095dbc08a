#!/usr/bin/env node
// Starts the studio: builds the app if needed, then opens it in Electron when its binary is installed,
// otherwise in browser mode (a local server on 127.0.0.1 that prints a URL with a one-time token).
// Extra arguments are passed to browser mode (e.g. --port 7860 --data DIR).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
process.chdir(root);

function newestMtime(dir) {
  let t = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p);
    t = Math.max(t, s.isDirectory() ? newestMtime(p) : s.mtimeMs);
  }
  return t;
}

const built = existsSync('out/renderer/index.html') && existsSync('out/main');
const sources = ['src-main', 'src-preload', 'src-renderer', 'src-shared'].filter(existsSync);
const stale = !built || Math.max(...sources.map(newestMtime)) > newestMtime('out');
if (stale) {
  console.error('[atelier] building the app (electron-vite build)…');
  const r = spawnSync('npx', ['electron-vite', 'build'], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const electronBinary = existsSync('node_modules/electron/dist') && !process.env.ATELIER_BROWSER_MODE;
const [cmd, args] = electronBinary
  ? ['npx', ['electron', '.']]
  : [process.execPath, ['--import', 'tsx', 'src-main/cli/index.ts', 'serve', ...process.argv.slice(2)]];
if (!electronBinary) console.error('[atelier] no Electron binary here: starting browser mode');
const child = spawn(cmd, args, { stdio: 'inherit' });
child.on('exit', (code) => process.exit(code ?? 0));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
