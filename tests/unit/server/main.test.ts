// `src-main/server/main.ts` as a person runs it: prints a URL with a token, serves it, and stops
// cleanly on SIGTERM.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

test('prints the URL with its token and exits cleanly on SIGTERM', { timeout: 60_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'atelier-serve-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src-main/server/main.ts', '--port', '0', '--data', dataDir], {
    cwd: new URL('../../../', import.meta.url).pathname,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk;
        const match = out.match(/Atelier is running at (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/);
        if (match) resolve(match[1]!);
      });
      child.once('exit', (code) => reject(new Error(`exited early (${code}): ${out}`)));
    });
    const origin = new URL(url).origin;
    assert.equal((await fetch(`${origin}/api/app.info`, { method: 'POST', headers: { 'content-type': 'application/json' } })).status, 401);
    const token = new URL(url).searchParams.get('token')!;
    const info = await fetch(`${origin}/api/app.info`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` } });
    assert.equal(((await info.json()) as { data: { dataDir: string } }).data.dataDir, dataDir);

    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('refuses a bad port with a clear message', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src-main/server/main.ts', '--port', 'eighty'], {
    cwd: new URL('../../../', import.meta.url).pathname,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (chunk: Buffer) => (err += chunk));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.equal(code, 1);
  assert.match(err, /--port must be 0-65535, got eighty/);
});
