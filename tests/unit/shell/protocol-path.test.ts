// The image protocol serves files inside <dataDir>/images only: traversal, encoded traversal,
// symlinks out, other folders and non-images are refused. Real files and links on disk.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { resolveDataFile } from '../../../src-main/api/data-file-path';
import { imageProtocolUrl, resolveImageRequest } from '../../../src-main/shell/protocol-path';

let root: string;
let dataDir: string;
const image = 'images/ab/abcdef.png';

before(() => {
  root = mkdtempSync(join(tmpdir(), 'atelier-protocol-'));
  dataDir = join(root, 'data');
  mkdirSync(join(dataDir, 'images', 'ab'), { recursive: true });
  writeFileSync(join(dataDir, image), 'png bytes');
  writeFileSync(join(dataDir, 'atelier.db'), 'the database');
  writeFileSync(join(root, 'secret.png'), 'outside');
  writeFileSync(join(dataDir, 'images', 'ab', 'notes.txt'), 'text');
  symlinkSync(join(root, 'secret.png'), join(dataDir, 'images', 'ab', 'link-out.png'));
  symlinkSync(join(dataDir, image), join(dataDir, 'images', 'ab', 'link-in.png'));
  symlinkSync(root, join(dataDir, 'images', 'escape'));
  mkdirSync(join(dataDir, 'images', 'dir.png'));
});
after(() => rmSync(root, { recursive: true, force: true }));

test('a file in the images folder resolves, through the protocol URL too', () => {
  const direct = resolveDataFile(dataDir, `/${image}`);
  assert.deepEqual(direct, { ok: true, path: join(dataDir, image), mime: 'image/png' });
  assert.equal(imageProtocolUrl(image), 'atelier-image://local/images/ab/abcdef.png');
  assert.deepEqual(resolveImageRequest(dataDir, imageProtocolUrl(image)), direct);
  // A symlink that stays inside is fine.
  assert.equal(resolveDataFile(dataDir, '/images/ab/link-in.png').ok, true);
});

test('traversal in every spelling is refused', () => {
  const attempts = [
    '/images/../atelier.db', '/images/ab/../../atelier.db', '/images/%2e%2e/atelier.db', '/images/%2E%2E%2Fatelier.db',
    '/images/ab%2F..%2F..%2Fatelier.db', '/images/..%5c..%5catelier.db', '/images/ab/abcdef.png%00.png', '/../secret.png',
    '/images/../../secret.png', '/atelier.db', '/images//ab/abcdef.png', '/images/./ab/abcdef.png', `/${join(root, 'secret.png')}`,
    '/images/C:/Windows/win.ini', '/images/%', '/images/%zz.png',
  ];
  for (const attempt of attempts) {
    const result = resolveDataFile(dataDir, attempt);
    assert.equal(result.ok, false, attempt);
    assert.ok(!result.ok && [400, 403, 404].includes(result.status), attempt);
  }
});

test('symlinks out of the images folder, other files and folders are refused', () => {
  const cases: [string, number][] = [
    ['/images/ab/link-out.png', 403],
    ['/images/escape/secret.png', 403],
    ['/images/ab/notes.txt', 403],
    ['/images/dir.png', 404],
    ['/images/ab/missing.png', 404],
    ['/images', 403],
  ];
  for (const [path, status] of cases) {
    const result = resolveDataFile(dataDir, path);
    assert.equal(!result.ok && result.status, status, path);
  }
});

test('protocol URLs: wrong host, query or scheme refused; URL-level dot segments cannot escape', () => {
  assert.equal(resolveImageRequest(dataDir, 'atelier-image://other/images/ab/abcdef.png').ok, false);
  assert.equal(resolveImageRequest(dataDir, 'atelier-image://local/images/ab/abcdef.png?x=1').ok, false);
  assert.equal(resolveImageRequest(dataDir, 'file:///etc/passwd').ok, false);
  assert.equal(resolveImageRequest(dataDir, 'atelier-image://local/images/../atelier.db').ok, false);
  assert.equal(resolveImageRequest(dataDir, 'atelier-image://local/images/%2e%2e/atelier.db').ok, false);
  assert.equal(resolveImageRequest(dataDir, 'not a url').ok, false);
});
