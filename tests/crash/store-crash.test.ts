// Crash safety of the store: a child process writing generations with image files is killed with
// SIGKILL at random moments, several times over the same data folder. Each time the database must
// open cleanly with every committed row and its files intact, and no partial file may be visible.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomInt } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../src-main/store/index';

const WRITER = fileURLToPath(new URL('./writer.ts', import.meta.url));
const ROUNDS = 10;

interface RoundLog {
  created: string[];
  /** Deletes that were started (committed or not). */
  deleting: string[];
}

/** Runs the writer until it has committed at least once, then kills it after a random delay. */
function runAndKill(dataDir: string): Promise<RoundLog> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    const log: RoundLog = { created: [], deleting: [] };
    let buffered = '';
    let stderr = '';
    let killScheduled = false;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text: string) => {
      buffered += text;
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        if (line.startsWith('+ ')) log.created.push(line.slice(2));
        else if (line.startsWith('? ')) log.deleting.push(line.slice(2));
      }
      if (!killScheduled && log.created.length > 0) {
        killScheduled = true;
        setTimeout(() => child.kill('SIGKILL'), randomInt(5, 400));
      }
    });
    child.stderr.on('data', (text: Buffer) => (stderr += text.toString()));
    const watchdog = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('exit', (code, signal) => {
      clearTimeout(watchdog);
      if (signal !== 'SIGKILL') reject(new Error(`writer exited by itself (code ${code}): ${stderr}`));
      else if (log.created.length === 0) reject(new Error(`writer was killed before committing anything: ${stderr}`));
      else resolve(log);
    });
  });
}

function sha256File(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

function walkImages(dataDir: string): { finals: string[]; temps: string[] } {
  const finals: string[] = [];
  const temps: string[] = [];
  const root = path.join(dataDir, 'images');
  for (const entry of fs.existsSync(root) ? fs.readdirSync(root, { recursive: true, withFileTypes: true }) : []) {
    if (!entry.isFile()) continue;
    (entry.name.startsWith('.tmp-') ? temps : finals).push(path.join(entry.parentPath, entry.name));
  }
  return { finals, temps };
}

test('SIGKILL while writing generations never loses a committed row or exposes a partial file', { timeout: 60_000 }, async (t) => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-crash-'));
  t.after(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const expected = new Set<string>();
  let tempsLeftByKills = 0;

  for (let round = 0; round < ROUNDS; round++) {
    const log = await runAndKill(dataDir);
    for (const id of log.created) expected.add(id);
    for (const id of log.deleting) expected.delete(id);

    const before = walkImages(dataDir);
    tempsLeftByKills += before.temps.length;
    // Under its final name a file is always complete: its content hashes to its name.
    for (const file of before.finals) {
      const name = path.basename(path.dirname(file)) + path.basename(file).replace(/\..*$/, '');
      assert.equal(sha256File(file), name, `partial or foreign content under ${file}`);
    }

    const store = openStore({ dataDir });
    try {
      assert.equal(store.integrityCheck(), 'ok');
      const after = walkImages(dataDir);
      assert.deepEqual(after.temps, [], 'temp files of the killed writer are removed at open');
      for (const id of expected) {
        const generation = store.generations.get(id);
        assert.ok(generation, `committed generation ${id} is missing after round ${round}`);
        assert.ok(generation.assets.length > 0);
        for (const { asset } of generation.assets) {
          const file = store.assets.absolutePath(asset);
          assert.ok(fs.existsSync(file), `file of committed asset ${asset.sha256} is missing`);
          assert.equal(sha256File(file), asset.sha256);
          assert.equal(fs.statSync(file).size, asset.bytes);
        }
      }
      // Every asset row names a complete file (the rows are written only after their files).
      let page = store.generations.list({ limit: 500 });
      const all = [...page.items];
      while (page.nextCursor) {
        page = store.generations.list({ limit: 500, cursor: page.nextCursor });
        all.push(...page.items);
      }
      for (const g of all) {
        for (const { asset } of g.assets) assert.equal(sha256File(store.assets.absolutePath(asset)), asset.sha256);
      }
      // The only rows are committed ones; a row whose "+" line was lost to the kill may exist too.
      assert.ok(all.length >= expected.size);
    } finally {
      store.close();
    }
  }
  t.diagnostic(`${expected.size} committed generations checked over ${ROUNDS} kills; ${tempsLeftByKills} temp files left mid-write were cleaned`);
});
